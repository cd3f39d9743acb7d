// Package version reports what binary this is, from the Go build info.
package version

import (
	"runtime/debug"
)

// Info is the version, commit and Go version of the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Modified  bool   `json:"modified"`
	GoVersion string `json:"go_version"`
}

// Version may be set at link time (-ldflags "-X .../version.Version=v1.2.3");
// otherwise the module version from build info is used.
var Version = ""

// Get reads the build info once per call; cheap enough for the few callers.
func Get() Info {
	i := Info{Version: Version, Commit: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if i.Version == "" {
			i.Version = "(devel)"
		}
		return i
	}
	i.GoVersion = bi.GoVersion
	if i.Version == "" {
		i.Version = bi.Main.Version
	}
	if i.Version == "" {
		i.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Commit = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}
