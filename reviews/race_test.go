//go:build race

package reviews

const raceEnabled = true
