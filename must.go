package prom

// Must returns m, and panics if err is not nil. It suits metrics created at
// program start-up:
//
//	var requests = prom.Must(prom.NewCounter("requests_total", "Requests served."))
func Must[M any](m M, err error) M {
	if err != nil {
		panic(err)
	}
	return m
}
