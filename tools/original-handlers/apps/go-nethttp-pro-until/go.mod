module github.com/acme/snapnote

go 1.22
