module github.com/promgo/prom/contrib/chi

go 1.24

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/promgo/prom v0.0.0
)

replace github.com/promgo/prom => ../..
