module github.com/acme/tracker

go 1.22
