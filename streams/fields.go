package streams

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrNoFields is returned for a message that has no field to publish: a
// stream entry needs at least one field-value pair.
var ErrNoFields = errors.New("streams: a message needs at least one field")

// fieldArgs appends v's fields to args as alternating names and values.
// v is a map with string keys, a slice of alternating names and values, or
// a struct (or pointer to one) whose exported fields are published under
// their `redis:"name"` tag (the go-redis convention; "-" skips a field,
// ",omitempty" skips a zero value), else under their Go name. Map fields
// are sorted by name, so that the same map always gives the same entry.
// Values are strings, byte slices, numbers, booleans, time.Time (RFC
// 3339 with nanoseconds), time.Duration (its String), or implement
// encoding.TextMarshaler or fmt.Stringer.
func fieldArgs(args []any, v any) ([]any, error) {
	start := len(args)
	var err error
	switch m := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(m) {
			if args, err = appendField(args, k, m[k]); err != nil {
				return nil, err
			}
		}
	case map[string]string:
		for _, k := range sortedKeys(m) {
			args = append(args, k, m[k])
		}
	case []string:
		if len(m)%2 != 0 {
			return nil, fmt.Errorf("streams: %d strings do not make name-value pairs", len(m))
		}
		for _, s := range m {
			args = append(args, s)
		}
	case []any:
		if len(m)%2 != 0 {
			return nil, fmt.Errorf("streams: %d values do not make name-value pairs", len(m))
		}
		for i := 0; i < len(m); i += 2 {
			name, ok := m[i].(string)
			if !ok {
				return nil, fmt.Errorf("streams: field name %v is a %T, not a string", m[i], m[i])
			}
			if args, err = appendField(args, name, m[i+1]); err != nil {
				return nil, err
			}
		}
	default:
		if args, err = structFields(args, v); err != nil {
			return nil, err
		}
	}
	if len(args) == start {
		return nil, ErrNoFields
	}
	return args, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// structFields appends the fields of a struct, as fieldArgs describes.
func structFields(args []any, v any) ([]any, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, errors.New("streams: cannot publish a nil pointer")
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("streams: cannot publish a %T: want a map, a slice of name-value pairs or a struct", v)
	}
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("redis"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fv := rv.Field(i)
		if opts == "omitempty" && fv.IsZero() {
			continue
		}
		var err error
		if args, err = appendField(args, name, fv.Interface()); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// appendField appends one name and its value, encoded as a string or bytes.
func appendField(args []any, name string, v any) ([]any, error) {
	s, err := encodeValue(v)
	if err != nil {
		return nil, fmt.Errorf("streams: field %q: %w", name, err)
	}
	return append(args, name, s), nil
}

func encodeValue(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case uint32:
		return strconv.FormatUint(uint64(x), 10), nil
	case uint:
		return strconv.FormatUint(uint64(x), 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case time.Duration:
		return x.String(), nil
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil {
			return nil, err
		}
		return b, nil
	case fmt.Stringer:
		return x.String(), nil
	case nil:
		return nil, errors.New("nil value")
	}
	return nil, fmt.Errorf("cannot encode a %T", v)
}
