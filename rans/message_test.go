package rans

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"testing"
)

var long = flag.Bool("long", false, "run the long randomized tests (tens of millions of symbols)")

// scaleN returns n in the default run and n·mult with -long.
func scaleN(n, mult int) int {
	if *long {
		return n * mult
	}
	return n
}

type sym struct {
	lane        int
	start, freq uint32
	prec        uint
}

// randSym draws a random interval at precision prec, with a mix of tiny, huge, edge and
// log-uniform frequencies.
func randSym(rng *rand.Rand, prec uint) (start, freq uint32) {
	M := uint64(1) << prec
	var f uint64
	switch rng.IntN(8) {
	case 0:
		f = 1
	case 1:
		f = M
	case 2:
		f = M - uint64(rng.IntN(int(min(M, 4))))
	default:
		f = 1 + uint64(math.Exp2(rng.Float64()*float64(prec)))
		if f > M {
			f = M
		}
	}
	s := uint64(rng.Int64N(int64(M - f + 1)))
	return uint32(s), uint32(f)
}

// pushAll pushes the symbols in order, popAll undoes them in reverse order and checks each
// cumulative frequency against the interval pushed.
func pushAll(m *Message, syms []sym) {
	for _, s := range syms {
		m.Push(s.lane, s.start, s.freq, s.prec)
	}
}

func popAll(t *testing.T, m *Message, syms []sym) {
	t.Helper()
	for i := len(syms) - 1; i >= 0; i-- {
		s := syms[i]
		cf := m.Peek(s.lane, s.prec)
		if cf < s.start || cf-s.start >= s.freq {
			t.Fatalf("symbol %d: cf %d not in [%d, %d+%d)", i, cf, s.start, s.start, s.freq)
		}
		if err := m.Pop(s.lane, s.start, s.freq, s.prec); err != nil {
			t.Fatalf("symbol %d: %v", i, err)
		}
	}
}

func checkHeads(t *testing.T, m *Message) {
	t.Helper()
	for i, h := range m.heads {
		if h < HeadMin || h >= headLimit {
			t.Fatalf("head %d = %#x out of range", i, h)
		}
	}
}

// Millions of random symbols under random precisions (1..31) and lane counts, pushed onto
// empty and seeded messages, serialized, and popped back.
func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	total := 0
	target := scaleN(2_000_000, 20)
	for stream := 0; total < target; stream++ {
		L := 1 + rng.IntN(16)
		n := 1 + rng.IntN(50000)
		fixed := uint(1 + rng.IntN(MaxPrec))
		syms := make([]sym, n)
		for i := range syms {
			prec := fixed
			if stream%3 == 0 { // mixed precisions within one stream
				prec = uint(1 + rng.IntN(MaxPrec))
			}
			s, f := randSym(rng, prec)
			syms[i] = sym{rng.IntN(L), s, f, prec}
		}
		var seed []uint32
		if stream%2 == 1 {
			seed = make([]uint32, rng.IntN(3*L))
			for i := range seed {
				seed[i] = rng.Uint32()
			}
		}
		m := NewMessageFromWords(L, seed)
		pushAll(m, syms)
		checkHeads(t, m)
		m2, err := FromBytes(m.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !m2.Equal(m) {
			t.Fatal("Bytes/FromBytes changed the message")
		}
		popAll(t, m2, syms)
		if !m2.Equal(NewMessageFromWords(L, seed)) {
			t.Fatalf("stream %d: popping everything did not restore the initial message", stream)
		}
		if w, err := m2.Words(); err != nil || !equalWords(w, seed) {
			t.Fatalf("stream %d: Words() = %v, %v", stream, len(w), err)
		}
		total += n
	}
}

func equalWords(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Pop then Push (decoding arbitrary data, then encoding it back) is also the identity: the
// bits-back direction. Start from random data and pop random distributions.
func TestPopPushRandomData(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for stream := 0; stream < 200; stream++ {
		L := 1 + rng.IntN(8)
		words := make([]uint32, 200+rng.IntN(2000))
		for i := range words {
			words[i] = rng.Uint32()
		}
		m := NewMessageFromWords(L, words)
		var popped []sym
		for {
			prec := uint(1 + rng.IntN(MaxPrec))
			lane := rng.IntN(L)
			cf := m.Peek(lane, prec)
			// a random interval that holds cf
			_, f := randSym(rng, prec)
			lo := int64(cf) + 1 - int64(f)
			lo = max(lo, 0)
			hi := min(int64(cf), int64(1)<<prec-int64(f))
			s := uint32(lo + rng.Int64N(hi-lo+1))
			if err := m.Pop(lane, s, f, prec); err != nil {
				if !errors.Is(err, ErrEmpty) {
					t.Fatal(err)
				}
				break
			}
			popped = append(popped, sym{lane, s, f, prec})
		}
		checkHeads(t, m)
		for i := len(popped) - 1; i >= 0; i-- {
			s := popped[i]
			m.Push(s.lane, s.start, s.freq, s.prec)
		}
		w, err := m.Words()
		if err != nil || !equalWords(w, words) {
			t.Fatalf("stream %d: pop then push did not give the words back (%v)", stream, err)
		}
	}
}

// The renormalization bounds at their edges, for every precision: Push moves a word to the
// tail exactly when head >= freq·2^(63-prec), Pop takes one exactly when the decoded head is
// below 2^31, and each undoes the other right at the boundary.
func TestRenormEdges(t *testing.T) {
	for prec := uint(1); prec <= MaxPrec; prec++ {
		M := uint64(1) << prec
		freqs := []uint64{1, 2, 3, M / 2, M - 1, M, M/3 + 1}
		for _, f := range freqs {
			if f < 1 || f > M {
				continue
			}
			for _, start := range []uint64{0, M - f, (M - f) / 2} {
				bound := f << (63 - prec)
				// Push edges.
				for _, x := range []uint64{HeadMin, HeadMin + 1, bound - 1, bound, bound + 1, headLimit - 1} {
					if x < HeadMin || x >= headLimit {
						continue
					}
					m := NewMessage(1)
					m.heads[0] = x
					m.Push(0, uint32(start), uint32(f), prec)
					wantWords := 0
					if x >= bound {
						wantWords = 1
					}
					if len(m.tail) != wantWords {
						t.Fatalf("prec %d freq %d head %#x: push moved %d words, want %d", prec, f, x, len(m.tail), wantWords)
					}
					checkHeads(t, m)
					if err := m.Pop(0, uint32(start), uint32(f), prec); err != nil {
						t.Fatal(err)
					}
					if m.heads[0] != x || len(m.tail) != 0 {
						t.Fatalf("prec %d freq %d head %#x: push/pop gave %#x", prec, f, x, m.heads[0])
					}
				}
				// Pop edges: heads that decode to exactly HeadMin-1, HeadMin, and the extremes.
				for _, d := range []uint64{HeadMin - 1, HeadMin, HeadMin + 1, headLimit - 1, f << (31 - prec)} {
					q, r := d/f, d%f
					if q >= 1<<(63-prec) {
						continue
					}
					x := q<<prec | (start + r)
					if x < HeadMin || x >= headLimit {
						continue
					}
					m := NewMessageFromWords(1, []uint32{0xdeadbeef, 0x01234567})
					m.heads[0] = x
					if err := m.Pop(0, uint32(start), uint32(f), prec); err != nil {
						t.Fatal(err)
					}
					wantHead, wantTail := d, 1
					if d < HeadMin {
						wantHead, wantTail = d<<32|0x01234567, 0
					}
					if m.heads[0] != wantHead || len(m.tail) != wantTail {
						t.Fatalf("prec %d freq %d: pop of %#x gave head %#x tail %d, want %#x %d", prec, f, x, m.heads[0], len(m.tail), wantHead, wantTail)
					}
					checkHeads(t, m)
					m.Push(0, uint32(start), uint32(f), prec)
					if m.heads[0] != x || len(m.tail) != 1 || m.tail[0] != 0x01234567 {
						t.Fatalf("prec %d freq %d: pop/push of %#x gave %#x", prec, f, x, m.heads[0])
					}
				}
			}
		}
	}
}

func TestPopErrors(t *testing.T) {
	m := NewMessage(4)
	empty := m.Clone()
	// An empty message has cf = 0 everywhere; a symbol with freq < 2^prec needs bits.
	if cf := m.Peek(2, 16); cf != 0 {
		t.Fatalf("Peek on empty message = %d", cf)
	}
	if err := m.Pop(2, 0, 100, 16); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Pop on empty message: %v, want ErrEmpty", err)
	}
	if !m.Equal(empty) {
		t.Fatal("failed Pop changed the message")
	}
	// A certain symbol costs nothing and pops fine.
	if err := m.Pop(2, 0, 1<<16, 16); err != nil || !m.Equal(empty) {
		t.Fatalf("Pop of a certain symbol: %v", err)
	}
	m.Push(1, 5, 10, 8)
	before := m.Clone()
	if err := m.Pop(1, 0, 5, 8); !errors.Is(err, ErrSymbol) {
		t.Fatalf("Pop of the wrong symbol: %v, want ErrSymbol", err)
	}
	if err := m.Pop(1, 15, 3, 8); !errors.Is(err, ErrSymbol) {
		t.Fatalf("Pop of the wrong symbol: %v, want ErrSymbol", err)
	}
	if !m.Equal(before) {
		t.Fatal("failed Pop changed the message")
	}
	if err := m.Pop(1, 5, 10, 8); err != nil || !m.Equal(empty) {
		t.Fatalf("Pop: %v", err)
	}
	// Popping a seeded message dry ends in ErrEmpty after using up exactly its words, and
	// nothing is lost: pushing back gives the words.
	words := []uint32{1, 2, 3, 4, 5, 6, 7}
	m = NewMessageFromWords(2, words)
	i0 := m.Info()
	var n int
	for lane := 0; lane < 2; lane++ { // pop lane 0 dry (taking the whole tail), then lane 1
		for {
			if err := m.Pop(lane, m.Peek(lane, 8), 1, 8); err != nil {
				if !errors.Is(err, ErrEmpty) {
					t.Fatal(err)
				}
				break
			}
			n++
		}
	}
	// Every pop took 8 bits; what is left cannot hold another 8 bits in any lane.
	if len(m.tail) != 0 || math.Abs(m.Info()-(i0-8*float64(n))) > 1e-6 || m.Info() >= 8*2 {
		t.Fatalf("popped %d bytes from %d words: info %v -> %v", n, len(words), i0, m.Info())
	}
}

func TestPushPanics(t *testing.T) {
	cases := []struct {
		start, freq uint32
		prec        uint
	}{{0, 0, 8}, {250, 7, 8}, {0, 1, 0}, {0, 1, 32}, {0, 257, 8}}
	for _, c := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Push(%d, %d, %d) did not panic", c.start, c.freq, c.prec)
				}
			}()
			NewMessage(1).Push(0, c.start, c.freq, c.prec)
		}()
	}
}

func TestBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, L := range []int{1, 3, 8, 16} {
		for _, n := range []int{0, 1, L - 1, L, L + 1, 1000} {
			prec := uint(1 + rng.IntN(MaxPrec))
			starts, freqs := make([]uint32, n), make([]uint32, n)
			for i := range starts {
				starts[i], freqs[i] = randSym(rng, prec)
			}
			m := NewMessage(L)
			// The batch equals single pushes onto lane i % L.
			single := NewMessage(L)
			for i := range starts {
				single.Push(i%L, starts[i], freqs[i], prec)
			}
			m.PushBatch(starts, freqs, prec)
			if !m.Equal(single) {
				t.Fatalf("L=%d n=%d: PushBatch differs from single pushes", L, n)
			}
			seen := make([]bool, n)
			err := m.PopBatch(n, prec, func(i int, cf uint32) (uint32, uint32) {
				if cf < starts[i] || cf-starts[i] >= freqs[i] {
					t.Fatalf("L=%d n=%d: symbol %d: cf %d outside its interval", L, n, i, cf)
				}
				seen[i] = true
				return starts[i], freqs[i]
			})
			if err != nil {
				t.Fatal(err)
			}
			if !m.Equal(NewMessage(L)) {
				t.Fatalf("L=%d n=%d: PopBatch did not undo PushBatch", L, n)
			}
			for i, s := range seen {
				if !s {
					t.Fatalf("symbol %d not popped", i)
				}
			}
		}
	}
	// A failing batch pop leaves the message as it was.
	m := NewMessageFromWords(4, []uint32{9, 8, 7, 6, 5, 4, 3})
	m.PushBatch([]uint32{1, 2, 3}, []uint32{1, 1, 1}, 20)
	before := m.Clone()
	calls := 0
	err := m.PopBatch(400, 20, func(i int, cf uint32) (uint32, uint32) {
		calls++
		return cf, 1 // uses up 20 bits per symbol until the message runs dry
	})
	if !errors.Is(err, ErrEmpty) || calls < 5 || !m.Equal(before) {
		t.Fatalf("PopBatch past the end: %v after %d calls, restored %v", err, calls, m.Equal(before))
	}
	err = m.PopBatch(3, 20, func(i int, cf uint32) (uint32, uint32) { return cf + 1, 1 })
	if !errors.Is(err, ErrSymbol) || !m.Equal(before) {
		t.Fatalf("PopBatch with a wrong symbol: %v", err)
	}
}

func TestWords(t *testing.T) {
	for _, L := range []int{1, 4, 16} {
		for _, n := range []int{0, 1, L - 1, L, L + 1, 3 * L} {
			words := make([]uint32, n)
			for i := range words {
				words[i] = uint32(i*2654435761) ^ 0xffff0000
			}
			m := NewMessageFromWords(L, words)
			if got := m.BitLen(); got != 64*L+32*max(0, n-L) {
				t.Fatalf("BitLen %d", got)
			}
			w, err := m.Words()
			if err != nil || !equalWords(w, words) {
				t.Fatalf("L=%d n=%d: Words() = %v, %v", L, n, w, err)
			}
		}
	}
	if !NewMessage(3).Equal(NewMessageFromWords(3, nil)) {
		t.Fatal("NewMessage differs from NewMessageFromWords(nil)")
	}
	m := NewMessageFromWords(2, []uint32{1, 2, 3})
	m.Push(0, 0, 1, 4)
	if _, err := m.Words(); !errors.Is(err, ErrNotWords) {
		t.Fatalf("Words on a coded message: %v", err)
	}
	m = NewMessageFromWords(2, []uint32{1})
	m.tail = append(m.tail, 5) // a gap in the heads with a tail
	if _, err := m.Words(); !errors.Is(err, ErrNotWords) {
		t.Fatalf("Words with an empty lane under a tail: %v", err)
	}
	m = NewMessage(2)
	m.heads[0] = HeadMin + 1
	if _, err := m.Words(); !errors.Is(err, ErrNotWords) {
		t.Fatalf("Words with a stray head: %v", err)
	}
}

func TestBytesFormat(t *testing.T) {
	m := NewMessageFromWords(2, []uint32{0x11223344, 0x55667788, 0x99aabbcc, 1})
	b := m.Bytes()
	want := []byte{2,
		0x44, 0x33, 0x22, 0x11, 1, 0, 0, 0,
		0x88, 0x77, 0x66, 0x55, 1, 0, 0, 0,
		0xcc, 0xbb, 0xaa, 0x99, 1, 0, 0, 0}
	if !bytes.Equal(b, want) {
		t.Fatalf("Bytes() = %x, want %x", b, want)
	}
	bad := [][]byte{
		nil, {0}, {1}, {1, 0, 0, 0, 0, 0, 0, 0}, // too short
		append([]byte{1, 0, 0, 0, 0x80, 0, 0, 0, 0}, 1), // not whole words
		{1, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0},         // head 2^31 - 1
		{1, 0, 0, 0, 0, 0, 0, 0, 0x80},                  // head 2^63
		{0, 0, 0, 0, 0},                                 // zero lanes
	}
	for _, b := range bad {
		if _, err := FromBytes(b); err == nil {
			t.Errorf("FromBytes(%x) succeeded", b)
		}
	}
	ok := []byte{1, 0, 0, 0, 0x80, 0, 0, 0, 0, 1, 2, 3, 4} // head 2^31, one word
	m, err := FromBytes(ok)
	if err != nil || m.Lanes() != 1 || len(m.tail) != 1 || m.tail[0] != 0x04030201 {
		t.Fatalf("FromBytes(%x) = %v", ok, err)
	}
}

// Info tracks the ideal code length: after pushes its growth equals sum -log2(freq/M) to
// within a tiny rounding (the integer division in Push).
func TestInfo(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m := NewMessage(4)
	if m.Info() != 0 {
		t.Fatalf("empty message Info = %v", m.Info())
	}
	ideal := 0.0
	for i := 0; i < 100000; i++ {
		prec := uint(12 + rng.IntN(12))
		s, f := randSym(rng, prec)
		m.Push(i%4, s, f, prec)
		ideal += float64(prec) - math.Log2(float64(f))
	}
	if d := m.Info() - ideal; math.Abs(d) > 1e-6*ideal+8 {
		t.Fatalf("Info %v, ideal %v", m.Info(), ideal)
	}
}

func FuzzFromBytes(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0x80, 0, 0, 0, 0})
	f.Add(NewMessageFromWords(3, []uint32{1, 2, 3, 4, 5}).Bytes())
	f.Add([]byte{2, 0, 0, 0, 0x80, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 7, 7, 7, 7})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := FromBytes(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Bytes(), b) {
			t.Fatal("FromBytes/Bytes is not the identity on accepted input")
		}
		// Any accepted message can be decoded from and encoded back.
		orig := m.Clone()
		var popped []sym
		for i := 0; i < 64; i++ {
			lane, prec := i%m.Lanes(), uint(1+(i*7)%MaxPrec)
			cf := m.Peek(lane, prec)
			s, f := cf&^7, uint32(8)
			if uint64(s)+8 > 1<<prec {
				s, f = cf, 1
			}
			if err := m.Pop(lane, s, f, prec); err != nil {
				if errors.Is(err, ErrEmpty) {
					break
				}
				t.Fatal(err)
			}
			popped = append(popped, sym{lane, s, f, prec})
		}
		for i := len(popped) - 1; i >= 0; i-- {
			s := popped[i]
			m.Push(s.lane, s.start, s.freq, s.prec)
		}
		if !m.Equal(orig) {
			t.Fatal("pop/push on a parsed message did not restore it")
		}
		_, _ = m.Words()
	})
}
