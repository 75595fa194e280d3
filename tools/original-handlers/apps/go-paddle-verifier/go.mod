module github.com/acme/clipper

go 1.22
