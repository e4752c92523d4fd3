package main

// The optional TOML file (-config plezi.toml, or PL_CONFIG): one key per
// setting, named like its flag (max-message = 1048576, compress = true,
// ping = "30s", origins = "https://a.example" or ["https://a.example"]),
// plus redis-url and cluster-secret. Types are strict: a boolean is a TOML
// boolean, a number a TOML integer (not quoted), a duration a string with a
// unit. A key that is not a setting, of the wrong type or out of range
// stops the command with one line naming the file and the key, even when
// the command line or a non-empty PL_ twin sets that setting too (they
// win: the file's value is checked, not used).

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// fileOnly are the file keys of the environment-only settings.
var fileOnly = map[string]string{"redis-url": "PL_REDIS_URL", "cluster-secret": "PL_CLUSTER_SECRET"}

// fromFile applies the config file, if one was named, to every setting the
// command line and the environment left unset. Call after fromEnv and
// after the environment-only settings were read.
func (o *options) fromFile(fs *flag.FlagSet, set []setting, lookup func(string) (string, bool)) error {
	if o.configFile == "" {
		return nil
	}
	var raw map[string]any
	if _, err := toml.DecodeFile(o.configFile, &raw); err != nil {
		return fmt.Errorf("config file %s: %s", o.configFile, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	onCmd := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCmd[f.Name] = true })
	byName, check := map[string]setting{}, map[string]setting{}
	for _, s := range set {
		byName[s.name] = s
	}
	for _, s := range defaults().settings() { // a scratch copy to check overridden values on
		check[s.name] = s
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad key, the same every run
	for _, k := range keys {
		use := byName
		if e, _ := lookup(envName(k)); onCmd[k] || e != "" {
			use = check
		}
		if err := o.fileKey(k, raw[k], use, lookup); err != nil {
			return fmt.Errorf("config file %s: key %q: %w", o.configFile, k, err)
		}
	}
	return nil
}

// fileKey checks one key of the file and sets it in byName (the real
// settings, or a scratch copy for those the command line or environment
// set).
func (o *options) fileKey(k string, v any, byName map[string]setting, lookup func(string) (string, bool)) error {
	if env, ok := fileOnly[k]; ok {
		s, isStr := v.(string)
		if !isStr {
			return fmt.Errorf("%w a string, got %s", errWant, tomlType(v))
		}
		if e, _ := lookup(env); e == "" {
			*o.envOnly(k) = s
		}
		return nil
	}
	s, ok := byName[k]
	if !ok || k == "config" {
		return fmt.Errorf("not a setting (plezi -help lists them; keys are the flag names)")
	}
	text, err := tomlText(s.v, v)
	if err != nil {
		return err
	}
	if err := s.v.Set(text); err != nil {
		return fmt.Errorf("value %s: %w", text, err)
	}
	return nil
}

func (o *options) envOnly(key string) *string {
	if key == "redis-url" {
		return &o.redisURL
	}
	return &o.clusterSecret
}

// tomlText turns a TOML value into the text the setting parses, checking
// its TOML type against the setting's.
func tomlText(fv flag.Value, v any) (string, error) {
	switch fv.(type) {
	case *value[bool]:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
		return "", fmt.Errorf("%w true or false (a TOML boolean), got %s", errWant, tomlType(v))
	case *value[int], *value[int64]:
		if n, ok := v.(int64); ok {
			return strconv.FormatInt(n, 10), nil
		}
		return "", fmt.Errorf("%w a whole number (a TOML integer, not quoted), got %s", errWant, tomlType(v))
	case *value[time.Duration]:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return "", fmt.Errorf(`%w a duration string with a unit, such as "10s", got %s`, errWant, tomlType(v))
	}
	return stringText(v)
}

// stringText takes a string, or an array of strings (joined with commas,
// for lists such as origins).
func stringText(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return "", fmt.Errorf("%w a string or an array of strings, got an array holding %s", errWant, tomlType(e))
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("%w a string, got %s", errWant, tomlType(v))
}

// tomlType names a decoded TOML value's type.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a %T", v) // dates and times
}

// fileValue is the -config setting: an existing regular file.
func fileValue(p *string) flag.Value {
	return &value[string]{p: p, parse: identity, ok: func(s string) bool {
		st, err := os.Stat(s)
		return err == nil && st.Mode().IsRegular()
	}, want: "an existing TOML file"}
}
