package stream

import (
	"math/rand"
	"testing"
)

// TestNodeListModel runs random pushes and removals (first, middle, last)
// across chunk boundaries against a plain slice.
func TestNodeListModel(t *testing.T) {
	for seed := int64(1); seed <= 8; seed++ {
		rng := rand.New(rand.NewSource(seed))
		var l nodeList
		var model []node
		next := uint64(1)
		for op := 0; op < 3000; op++ {
			switch r := rng.Intn(10); {
			case r < 5 || len(model) == 0:
				for k := rng.Intn(nodeChunk/2) + 1; k > 0; k-- {
					h := node{master: ID{Ms: next}}
					next++
					if p := l.push(h); p.master != h.master {
						t.Fatalf("seed %d: push returned %v", seed, p.master)
					}
					model = append(model, h)
				}
			case r < 8:
				for k := rng.Intn(nodeChunk/4) + 1; k > 0 && len(model) > 0; k-- {
					l.removeFirst()
					model = model[1:]
				}
			default:
				i := rng.Intn(len(model))
				l.remove(i)
				model = append(model[:i], model[i+1:]...)
			}
			if l.len() != len(model) {
				t.Fatalf("seed %d op %d: len %d, want %d", seed, op, l.len(), len(model))
			}
			if op%10 == 0 || len(model) < 3 {
				for i := range model {
					if got := l.at(i).master; got != model[i].master {
						t.Fatalf("seed %d op %d: node %d is %v, want %v", seed, op, i, got, model[i].master)
					}
				}
				for c := 0; c+1 < len(l.chunks); c++ {
					if len(l.chunks[c]) != nodeChunk {
						t.Fatalf("seed %d op %d: chunk %d of %d holds %d", seed, op, c, len(l.chunks), len(l.chunks[c]))
					}
				}
				if slack := l.capBytes()/nodeHdrSize - int64(len(model)); slack > 2*nodeChunk {
					t.Fatalf("seed %d op %d: %d headers of capacity for %d nodes", seed, op, l.capBytes()/nodeHdrSize, len(model))
				}
			}
		}
	}
}
