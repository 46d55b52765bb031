// Package race tells tests whether the binary was built with the race
// detector (go test -race), which makes CPU-bound work several times
// slower. Tests that check a single goroutine's arithmetic over many values
// use fewer values under it: the detector has no data race to find there,
// and the same tests run in full without -race (make mingo runs them so in
// CI).
package race
