package bencode

import (
	"io"
	"reflect"
	"strconv"
)

// A SyntaxError reports input that is not valid bencode, or that breaks a
// rule the decoder enforces (a limit, or canonical form in strict mode).
type SyntaxError struct {
	Offset int64  // byte offset in the input where the problem was found
	Msg    string // description of the problem

	truncated bool
}

// Error returns the message with its offset.
func (e *SyntaxError) Error() string {
	return "bencode: " + e.Msg + " at offset " + strconv.FormatInt(e.Offset, 10)
}

// Unwrap returns io.ErrUnexpectedEOF when the error is caused by input that
// ends in the middle of a value, so callers can tell truncation apart with
// errors.Is.
func (e *SyntaxError) Unwrap() error {
	if e.truncated {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// An UnmarshalTypeError describes a bencode value that cannot be stored in a
// Go value of a given type, such as a list decoded into a string, or an
// integer that overflows its target.
type UnmarshalTypeError struct {
	Value  string       // the bencode value: "integer", "string", "list", "dict", or "integer 300"
	Type   reflect.Type // the Go type it could not be assigned to
	Offset int64        // byte offset of the value in the input
	Field  string       // the keys of the struct fields leading to the value, joined by dots
}

// addField records that the value lies under the struct field key.
func (e *UnmarshalTypeError) addField(key string) {
	if e.Field == "" {
		e.Field = key
	} else {
		e.Field = key + "." + e.Field
	}
}

// Error names the value, the Go type and field, and the offset.
func (e *UnmarshalTypeError) Error() string {
	s := "bencode: cannot unmarshal " + e.Value + " into Go "
	if e.Field != "" {
		s += "struct field " + strconv.Quote(e.Field) + " of "
	}
	return s + "type " + e.Type.String() + " at offset " + strconv.FormatInt(e.Offset, 10)
}

// An InvalidUnmarshalError describes an invalid argument passed to Unmarshal:
// it must be a non-nil pointer.
type InvalidUnmarshalError struct {
	Type reflect.Type // the argument's type; nil for a nil interface
}

// Error says what was wrong with the argument.
func (e *InvalidUnmarshalError) Error() string {
	if e.Type == nil {
		return "bencode: Unmarshal(nil)"
	}
	if e.Type.Kind() != reflect.Pointer {
		return "bencode: Unmarshal(non-pointer " + e.Type.String() + ")"
	}
	return "bencode: Unmarshal(nil " + e.Type.String() + ")"
}

// An UnsupportedTypeError is returned by Marshal for a value whose type has
// no bencode form (floats, complex numbers, channels, functions, maps with
// non-string keys).
type UnsupportedTypeError struct {
	Type reflect.Type // the type with no bencode form
}

// Error names the unsupported type.
func (e *UnsupportedTypeError) Error() string {
	return "bencode: unsupported type: " + e.Type.String()
}

// An UnsupportedValueError is returned by Marshal for a value it cannot
// encode, such as a nil pointer at the top level or a structure nested too
// deeply (which is how a pointer cycle shows).
type UnsupportedValueError struct {
	Value reflect.Value // the value that could not be encoded
	Str   string        // why, for the message
}

// Error says why the value could not be encoded.
func (e *UnsupportedValueError) Error() string {
	return "bencode: unsupported value: " + e.Str
}

// A MarshalerError wraps an error returned by a type's MarshalBencode
// method, or reports that the method returned invalid bencode.
type MarshalerError struct {
	Type reflect.Type // the type whose MarshalBencode failed
	Err  error        // what went wrong
}

// Error names the type and the underlying error.
func (e *MarshalerError) Error() string {
	return "bencode: error calling MarshalBencode for type " + e.Type.String() + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *MarshalerError) Unwrap() error { return e.Err }
