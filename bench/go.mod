module github.com/bt-go/bt/bench

go 1.26.0

replace github.com/bt-go/bt => ../

require (
	github.com/IncSW/go-bencode v0.2.2
	github.com/anacrolix/torrent v1.62.0
	github.com/bt-go/bt v0.0.0-00010101000000-000000000000
	github.com/cristalhq/bencode v0.4.0
	github.com/google/go-cmp v0.7.0
	github.com/jackpal/bencode-go v1.0.2
	github.com/zeebo/bencode v1.0.0
)

require (
	github.com/anacrolix/missinggo v1.3.0 // indirect
	github.com/anacrolix/missinggo/v2 v2.11.0 // indirect
	github.com/huandu/xstrings v1.3.2 // indirect
)
