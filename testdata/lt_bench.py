# Benchmark peer for bench_test.go: one libtorrent session on 127.0.0.1
# seeding (after checking the data, as bt seed does; until stdin closes) or
# downloading one torrent (exits when it is complete). Prints {"port": N}
# when ready, then {"done": true}. (seed_mode, which checks pieces lazily as
# they are requested, made libtorrent seed several times slower here.)
import json
import os
import sys
import time

import libtorrent as lt

mode, torrent, save = sys.argv[1], sys.argv[2], sys.argv[3]
peer = sys.argv[4] if len(sys.argv) > 4 else ""
settings = {
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'dht_bootstrap_nodes': '',
    'allow_multiple_connections_per_ip': True,
    # TCP only, as bt: between two libtorrents the seeder's outgoing
    # connection would otherwise be uTP, which runs at ~5 MB/s on loopback.
    'enable_outgoing_utp': False, 'enable_incoming_utp': False,
    'alert_mask': lt.alert_category.error | lt.alert_category.status,
}
if os.environ.get('LT_BENCH_RC4') == '1':
    # Message Stream Encryption forced, RC4 stream only.
    settings.update({'out_enc_policy': 0, 'in_enc_policy': 0, 'allowed_enc_level': 2})
ses = lt.session(settings)
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save
atp.flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed)
h = ses.add_torrent(atp)
if mode == 'seed':
    while not h.status().is_seeding:
        time.sleep(0.02)
print(json.dumps({'port': ses.listen_port()}), flush=True)
if peer:
    host, port = peer.rsplit(':', 1)
    h.connect_peer((host, int(port)))
if mode == 'seed':
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    sys.exit(0)
while True:
    st = h.status()
    if st.is_seeding:
        break
    if st.errc.value() != 0:
        print(json.dumps({'error': st.errc.message()}), flush=True)
        sys.exit(1)
    time.sleep(0.02)
# Make the data durable, as bt does before it reports completion.
h.flush_cache()
print(json.dumps({'done': True}), flush=True)
