module github.com/promgo/prom

go 1.24
