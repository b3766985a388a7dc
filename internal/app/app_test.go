package app

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	a := New(nil, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve(l)
	defer a.Shutdown(context.Background())
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\nFOO a b\r\n"))
	r := bufio.NewReader(c)
	want := []string{"+PONG\r\n", "+OK\r\n", "$1\r\n", "v\r\n", "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"}
	for _, w := range want {
		line, err := r.ReadString('\n')
		if err != nil || line != w {
			t.Fatalf("got %q, %v; want %q", line, err, w)
		}
	}
}
