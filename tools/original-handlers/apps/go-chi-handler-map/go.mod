module github.com/acme/guild

go 1.22
