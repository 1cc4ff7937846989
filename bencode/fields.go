package bencode

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A field is one dict entry of a struct type: its key, where it lives in the
// struct (an index path through embedded structs) and its tag options.
type field struct {
	name      string
	key       []byte // the key as encoded: "<len>:<name>"
	index     []int
	typ       reflect.Type
	omitEmpty bool
	tagged    bool
}

var fieldCache sync.Map // reflect.Type → []field

// cachedFields returns the fields of struct type t, sorted by key as raw
// bytes (the canonical order), computed once per type.
func cachedFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.([]field)
}

// parseTag splits a `bencode:"name,opt,opt"` tag.
func parseTag(tag string) (name string, omitEmpty bool) {
	name, opts, _ := strings.Cut(tag, ",")
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		if opt == "omitempty" {
			omitEmpty = true
		}
	}
	return name, omitEmpty
}

// typeFields lists the fields of t, promoting the fields of embedded structs
// with no name in their tag, as encoding/json does: a shallower field hides a
// deeper one of the same name; at equal depth a tagged field wins, and
// otherwise all fields of that name are dropped.
func typeFields(t reflect.Type) []field {
	type queued struct {
		typ   reflect.Type
		index []int
	}
	var (
		fields  []field
		taken   = map[string]bool{}
		visited = map[reflect.Type]bool{}
		next    = []queued{{typ: t}}
	)
	for len(next) > 0 {
		current := next
		next = nil
		var level []field
		for _, q := range current {
			if visited[q.typ] {
				continue
			}
			visited[q.typ] = true
			for i := range q.typ.NumField() {
				sf := q.typ.Field(i)
				ft := sf.Type
				if sf.Anonymous {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("bencode")
				if tag == "-" {
					continue
				}
				name, omitEmpty := parseTag(tag)
				index := append(slices.Clip(q.index), i)
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, queued{typ: ft, index: index})
					continue
				}
				if name == "" && !sf.IsExported() {
					continue
				}
				tagged := name != ""
				if !tagged {
					name = sf.Name
				}
				level = append(level, field{
					name:      name,
					key:       []byte(strconv.Itoa(len(name)) + ":" + name),
					index:     index,
					typ:       sf.Type,
					omitEmpty: omitEmpty,
					tagged:    tagged,
				})
			}
		}
		// Resolve names within this level, then hide deeper ones.
		slices.SortStableFunc(level, func(a, b field) int { return strings.Compare(a.name, b.name) })
		for i := 0; i < len(level); {
			j := i + 1
			for j < len(level) && level[j].name == level[i].name {
				j++
			}
			name := level[i].name
			if !taken[name] {
				taken[name] = true
				if j-i == 1 {
					fields = append(fields, level[i])
				} else {
					var only []field
					for _, f := range level[i:j] {
						if f.tagged {
							only = append(only, f)
						}
					}
					if len(only) == 1 {
						fields = append(fields, only[0])
					}
				}
			}
			i = j
		}
	}
	slices.SortFunc(fields, func(a, b field) int { return strings.Compare(a.name, b.name) })
	return fields
}
