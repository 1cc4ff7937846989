package transmissionrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// request is a legacy-format request.
type request struct {
	Method    string          `json:"method"`
	Arguments json.RawMessage `json:"arguments"`
	Tag       json.RawMessage `json:"tag"`
}

// response is a legacy-format response. Arguments is always present, an
// empty object on error, as Transmission writes it.
type response struct {
	Arguments any             `json:"arguments"`
	Result    string          `json:"result"`
	Tag       json.RawMessage `json:"tag,omitempty"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(response{Arguments: struct{}{}, Result: "internal error: " + err.Error()})
	}
	w.Write(b)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, fmt.Errorf("request too large: more than %d bytes", MaxBodySize)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the request: %w", err)
	}
	if err := checkDepth(body, MaxDepth); err != nil {
		return nil, err
	}
	return body, nil
}

// checkDepth refuses JSON nested deeper than max, before it is parsed.
func checkDepth(b []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return fmt.Errorf("request nested too deeply (more than %d levels)", max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// call runs one request.
func (h *Handler) call(ctx context.Context, body []byte) response {
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return response{Arguments: struct{}{}, Result: "invalid JSON request: " + err.Error()}
	}
	resp := response{Arguments: struct{}{}, Tag: req.Tag}
	if req.Tag != nil {
		if _, err := integer(json.Number(bytes.TrimSpace(req.Tag))); err != nil {
			return response{Arguments: struct{}{}, Result: "tag must be an integer"}
		}
	}
	a := args{}
	if len(req.Arguments) > 0 && string(req.Arguments) != "null" {
		dec := json.NewDecoder(bytes.NewReader(req.Arguments))
		dec.UseNumber()
		if err := dec.Decode(&a); err != nil {
			resp.Result = "arguments must be an object: " + err.Error()
			return resp
		}
	}
	m, ok := methods[req.Method]
	if !ok {
		resp.Result = fmt.Sprintf("method name not recognized: %q", req.Method)
		return resp
	}
	if err := a.only(m.keys); err != nil {
		resp.Result = err.Error()
		return resp
	}
	out, err := m.fn(h, ctx, a)
	if err != nil {
		resp.Result = err.Error()
		return resp
	}
	if out == nil {
		out = struct{}{}
	}
	resp.Arguments, resp.Result = out, "success"
	return resp
}

type method struct {
	fn func(h *Handler, ctx context.Context, a args) (any, error)
	// keys lists the arguments the method takes; nil: any (ignored).
	keys []string
}

// obj is a response object.
type obj = map[string]any

// args are a request's arguments, numbers kept as json.Number.
type args map[string]any

// only refuses arguments the method does not know.
func (a args) only(keys []string) error {
	if keys == nil {
		return nil
	}
	var unknown []string
	for k := range a {
		if !slices.Contains(keys, k) {
			unknown = append(unknown, k)
		}
	}
	if unknown != nil {
		slices.Sort(unknown)
		return fmt.Errorf("unknown argument %q", unknown[0])
	}
	return nil
}

func (a args) has(k string) bool { _, ok := a[k]; return ok }

// integer parses an integer strictly: no fraction, no exponent.
func integer(n json.Number) (int64, error) {
	s := string(n)
	if strings.ContainsAny(s, ".eE") {
		return 0, errors.New("not an integer")
	}
	return strconv.ParseInt(s, 10, 64)
}

func (a args) int(k string) (int64, bool, error) {
	v, ok := a[k]
	if !ok {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, true, fmt.Errorf("argument %q must be an integer", k)
	}
	i, err := integer(n)
	if err != nil {
		return 0, true, fmt.Errorf("argument %q must be an integer, not %s", k, n)
	}
	return i, true, nil
}

func (a args) float(k string) (float64, bool, error) {
	v, ok := a[k]
	if !ok {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, true, fmt.Errorf("argument %q must be a number", k)
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, true, fmt.Errorf("argument %q must be a number", k)
	}
	return f, true, nil
}

// bool takes true/false, or 0/1 as Transmission's own parser does.
func (a args) bool(k string) (bool, bool, error) {
	v, ok := a[k]
	if !ok {
		return false, false, nil
	}
	switch v := v.(type) {
	case bool:
		return v, true, nil
	case json.Number:
		if i, err := integer(v); err == nil && (i == 0 || i == 1) {
			return i == 1, true, nil
		}
	}
	return false, true, fmt.Errorf("argument %q must be a boolean", k)
}

func (a args) str(k string) (string, bool, error) {
	v, ok := a[k]
	if !ok {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, fmt.Errorf("argument %q must be a string", k)
	}
	return s, true, nil
}

// intList reads a list of integers. An empty list is returned non-nil.
func (a args) intList(k string) ([]int, bool, error) {
	v, ok := a[k]
	if !ok {
		return nil, false, nil
	}
	l, isList := v.([]any)
	if !isList {
		return nil, true, fmt.Errorf("argument %q must be a list of integers", k)
	}
	out := make([]int, 0, len(l))
	for _, x := range l {
		n, isNum := x.(json.Number)
		if !isNum {
			return nil, true, fmt.Errorf("argument %q must be a list of integers", k)
		}
		i, err := integer(n)
		if err != nil || i < 0 || i > math.MaxInt32 {
			return nil, true, fmt.Errorf("argument %q must be a list of integers, not %s", k, n)
		}
		out = append(out, int(i))
	}
	return out, true, nil
}

func (a args) strList(k string) ([]string, bool, error) {
	v, ok := a[k]
	if !ok {
		return nil, false, nil
	}
	l, isList := v.([]any)
	if !isList {
		return nil, true, fmt.Errorf("argument %q must be a list of strings", k)
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, isStr := x.(string)
		if !isStr {
			return nil, true, fmt.Errorf("argument %q must be a list of strings", k)
		}
		out = append(out, s)
	}
	return out, true, nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
