module github.com/runnel-io/runnel

go 1.26
