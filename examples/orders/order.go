package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/runnel-io/runnel/streams"
)

// order is what POST /orders takes and what orders-stream holds.
type order struct {
	OrderID    string  `json:"order_id" redis:"order_id"`
	CustomerID string  `json:"customer_id" redis:"customer_id"`
	Amount     float64 `json:"amount" redis:"amount"`
}

// orderService is the order service's API controller and producer.
type orderService struct {
	producer *streams.Producer
	// noIDMP is set once the server turned XADD IDMP down (Redis before
	// 8.6): orders are then published without it.
	noIDMP atomic.Bool
}

// newOrderService keeps about retention orders in orders-stream (MAXLEN ~,
// the article's production checklist).
func newOrderService(rdb redis.UniversalClient, retention int64) *orderService {
	return &orderService{producer: streams.NewProducer(rdb, ordersStream, streams.ProducerOptions{
		MaxLen:     retention,
		ProducerID: "order-service",
	})}
}

func (s *orderService) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", s.postOrder)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	return mux
}

// postOrder publishes the order in the body and answers 201 with its
// entry ID: {"id": "1700000000000-0"}.
func (s *orderService) postOrder(w http.ResponseWriter, r *http.Request) {
	var o order
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		http.Error(w, "bad order: "+err.Error(), http.StatusBadRequest)
		return
	}
	if o.OrderID == "" || o.CustomerID == "" || o.Amount <= 0 {
		http.Error(w, "bad order: order_id, customer_id and a positive amount are required", http.StatusBadRequest)
		return
	}
	id, err := s.publish(r.Context(), o)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{"id": id})
}

// publish adds o to orders-stream once per order ID where the server has
// XADD IDMP: a client retrying a POST whose answer it lost adds nothing.
func (s *orderService) publish(ctx context.Context, o order) (string, error) {
	if !s.noIDMP.Load() {
		id, err := s.producer.PublishOnce(ctx, o.OrderID, o)
		if !errors.Is(err, streams.ErrIDMPUnsupported) {
			return id, err
		}
		s.noIDMP.Store(true)
	}
	return s.producer.Publish(ctx, o)
}

// orderServer is the order service listening for HTTP.
type orderServer struct {
	url  string // http://host:port
	srv  *http.Server
	once sync.Once
}

func startOrderService(addr string, s *orderService, logger *slog.Logger) (*orderServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("order service: %w", err)
	}
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go srv.Serve(l)
	return &orderServer{url: "http://" + l.Addr().String(), srv: srv}, nil
}

// close stops the server, letting requests in flight finish; it may be
// called more than once.
func (o *orderServer) close() {
	o.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		o.srv.Shutdown(ctx)
	})
}

// orderNumbered is the n-th order the client places: a deterministic
// customer and amount, so that runs compare.
func orderNumbered(n int) order {
	return order{
		OrderID:    orderID(n),
		CustomerID: "customer-" + strconv.Itoa(n%50),
		Amount:     float64(orderCents(n)) / 100,
	}
}

// orderCents is the n-th order's amount in cents: 1.00 to 900.99.
func orderCents(n int) int64 { return int64(100 + n*7919%90_000) }

func orderID(n int) string { return "order-" + strconv.Itoa(n) }

// orderNumber is orderID's inverse; 0 for an ID not of that form.
func orderNumber(id string) int {
	if len(id) <= len("order-") || id[:len("order-")] != "order-" {
		return 0
	}
	n, err := strconv.Atoi(id[len("order-"):])
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// postOrders is the client: posters goroutines POST orders 1 to n to the
// order service at url. It returns the first failure.
func postOrders(ctx context.Context, url string, n, posters int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// A transport of its own, keeping a connection per poster alive, and
	// closing them at the end: a connection left open but unused would
	// hold the server's graceful shutdown up for 5s (net/http's grace
	// for a connection yet to send its first request).
	tr := &http.Transport{MaxIdleConnsPerHost: posters}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	next := make(chan int)
	var wg sync.WaitGroup
	for range posters {
		wg.Go(func() {
			for i := range next {
				if err := postOrder(ctx, client, url, orderNumbered(i)); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
feed:
	for i := 1; i <= n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

func postOrder(ctx context.Context, client *http.Client, url string, o order) error {
	body, err := json.Marshal(o)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/orders", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /orders %s: %s: %s", o.OrderID, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
