// Package rans is the entropy coder under bits-back coding: a stack (LIFO) rANS coder with a
// few interleaved 64-bit lanes that share one tail of 32-bit words, plus the integer
// distributions the codec codes with (uniform, categorical, discretized logistic pixels and
// mixtures, logistic latents in equal-mass bins).
//
// # Stack coding
//
// A Message is a stack of bits. Push(lane, start, freq, prec) adds a symbol of probability
// freq/2^prec; Peek(lane, prec) returns the cumulative frequency cf in [0, 2^prec) that the
// top of the lane encodes, and Pop(lane, start, freq, prec) removes the symbol whose interval
// [start, start+freq) holds cf. Pop undoes Push exactly and vice versa, whatever the bits on
// the stack are: popping under a distribution from arbitrary data "decodes" a symbol, which
// is how bits-back coding samples a latent with bits the receiver later gets back.
//
// # Lanes
//
// Each lane is an independent rANS state (head) in [2^31, 2^63); all lanes move 32-bit words
// to and from the one shared tail. Interleaving lanes gives the CPU independent dependency
// chains (the division in Push is the critical path) while keeping the flush cost small:
// every lane costs 64 bits in the serialized message. The batched forms put symbol i of a
// batch on lane i % L; push runs i = 0..n-1 and pop runs i = n-1..0, so popping a batch
// exactly undoes pushing it. The caller may also pick lanes freely with the single-symbol
// methods: the only rule is that pops happen in the exact reverse order of pushes.
//
// # Floating point
//
// Distributions built from float parameters (Logistic, Mixture, Latent) evaluate their CDFs
// with internal/dmath and explicit float64 roundings only, so the integer (start, freq) they
// give are the same on every platform and compiler setting. See docs/rans.md.
package rans

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

const (
	// HeadMin is the lower bound of a lane's head: heads live in [HeadMin, 2^63).
	HeadMin = 1 << 31
	// headLimit is the exclusive upper bound of a head.
	headLimit = 1 << 63
	// MaxPrec is the largest precision (bits of 2^prec total frequency) Push and Pop accept.
	MaxPrec = 31
	// MaxLanes is the largest number of lanes a Message can have.
	MaxLanes = 255
)

var (
	// ErrEmpty is returned by Pop when the lane needs a word from the tail and the tail is
	// empty: the message holds no more bits to decode from. The message is left unchanged.
	ErrEmpty = errors.New("rans: pop from an exhausted message")
	// ErrSymbol is returned by Pop when the given [start, start+freq) does not contain the
	// lane's current cumulative frequency (a caller bug). The message is left unchanged.
	ErrSymbol = errors.New("rans: popped symbol does not match the cumulative frequency")
	// ErrNotWords is returned by Words when the message is not in the form
	// NewMessageFromWords creates.
	ErrNotWords = errors.New("rans: message is not a plain sequence of words")
)

// Message is a rANS stack with L lanes and a shared tail. The zero value is not usable; make
// one with NewMessage, NewMessageFromWords or FromBytes. A Message is not safe for concurrent
// use, but distinct Messages may be used from distinct goroutines.
type Message struct {
	heads []uint64 // len L; each in [HeadMin, 2^63)
	tail  []uint32 // stack of words, top at the end
}

// NewMessage returns an empty message with the given number of lanes (1..MaxLanes): every
// head is HeadMin and the tail is empty. It holds no information, so popping a symbol with
// freq < 2^prec from it fails with ErrEmpty.
func NewMessage(lanes int) *Message {
	return NewMessageFromWords(lanes, nil)
}

// NewMessageFromWords returns a message that holds exactly the given words ("clean bits"):
// words[i] goes into head i as 2^32|words[i] for i < lanes (so no bit is lost and the head
// stays in range), the rest go onto the tail, words[lanes] at the bottom and the last word
// on top. Lanes without a word stay empty (HeadMin). Bits-back pops draw on these words; once
// everything pushed since has been popped again, Words returns the same words.
func NewMessageFromWords(lanes int, words []uint32) *Message {
	if lanes < 1 || lanes > MaxLanes {
		panic(fmt.Sprintf("rans: %d lanes, want 1..%d", lanes, MaxLanes))
	}
	m := &Message{heads: make([]uint64, lanes)}
	for i := range m.heads {
		m.heads[i] = HeadMin
		if i < len(words) {
			m.heads[i] = 1<<32 | uint64(words[i])
		}
	}
	if len(words) > lanes {
		m.tail = append([]uint32(nil), words[lanes:]...)
	}
	return m
}

// Words returns the words of a message in the form NewMessageFromWords makes: heads 2^32|w
// for the first n lanes and HeadMin for the others, and an empty tail unless n = L. It
// returns ErrNotWords for any other message.
func (m *Message) Words() ([]uint32, error) {
	n := 0
	for n < len(m.heads) && m.heads[n]>>32 == 1 {
		n++
	}
	for _, h := range m.heads[n:] {
		if h != HeadMin {
			return nil, ErrNotWords
		}
	}
	if n < len(m.heads) && len(m.tail) > 0 {
		return nil, ErrNotWords
	}
	w := make([]uint32, 0, n+len(m.tail))
	for _, h := range m.heads[:n] {
		w = append(w, uint32(h))
	}
	return append(w, m.tail...), nil
}

// Lanes returns the number of lanes.
func (m *Message) Lanes() int { return len(m.heads) }

// Clone returns an independent copy of m.
func (m *Message) Clone() *Message {
	return &Message{heads: append([]uint64(nil), m.heads...), tail: append([]uint32(nil), m.tail...)}
}

// Equal reports whether m and o hold the same state.
func (m *Message) Equal(o *Message) bool {
	if len(m.heads) != len(o.heads) || len(m.tail) != len(o.tail) {
		return false
	}
	for i, h := range m.heads {
		if o.heads[i] != h {
			return false
		}
	}
	for i, w := range m.tail {
		if o.tail[i] != w {
			return false
		}
	}
	return true
}

// BitLen returns the size of the serialized state in bits without the one-byte header:
// 64 bits per lane plus 32 per tail word.
func (m *Message) BitLen() int { return 64*len(m.heads) + 32*len(m.tail) }

// Info returns the information the message holds in bits, sum of log2(head) over the lanes
// plus 32 per tail word, minus 31 per lane (the content of an empty message). Pushing a
// symbol of probability p raises it by -log2(p) up to rounding, popping lowers it: it is the
// exact rate meter (BitLen is what a flush costs). Not for the coding path (float log).
func (m *Message) Info() float64 {
	s := float64(32 * float64(len(m.tail)))
	for _, h := range m.heads {
		s += math.Log2(float64(h)) - 31
	}
	return s
}

func checkPrec(prec uint) {
	if prec-1 >= MaxPrec { // prec == 0 wraps around
		panic(fmt.Sprintf("rans: precision %d, want 1..%d", prec, MaxPrec))
	}
}

// Push pushes the symbol with interval [start, start+freq) at precision prec (total
// frequency 2^prec) onto the given lane. It panics if prec is not in 1..MaxPrec, freq is 0
// or start+freq > 2^prec: those are bugs in the caller's distribution, not data errors.
func (m *Message) Push(lane int, start, freq uint32, prec uint) {
	checkPrec(prec)
	if freq == 0 || uint64(start)+uint64(freq) > 1<<prec {
		panic(fmt.Sprintf("rans: bad symbol start %d freq %d at precision %d", start, freq, prec))
	}
	m.heads[lane] = m.push(m.heads[lane], start, freq, prec)
}

// push is Push on one head value, without argument checks.
//
// Renormalization: a head x in [2^31, 2^63) must, before encoding, lie in
// [freq·2^(31-prec), freq·2^(63-prec)) so that the result lands in [2^31, 2^63). If
// x >= freq·2^(63-prec) its low 32 bits go to the tail; one step always suffices for
// prec <= 32. The bound is exact because 2^31 is a multiple of 2^prec (the non-dyadic case
// of Craystack issue #14 cannot arise).
func (m *Message) push(x uint64, start, freq uint32, prec uint) uint64 {
	f := uint64(freq)
	if x >= f<<(63-prec) {
		m.tail = append(m.tail, uint32(x))
		x >>= 32
	}
	q := x / f
	return q<<prec | (x - q*f + uint64(start))
}

// Peek returns the cumulative frequency in [0, 2^prec) that the top of the lane encodes at
// precision prec: the caller finds the symbol whose interval holds it and commits with Pop.
func (m *Message) Peek(lane int, prec uint) uint32 {
	checkPrec(prec)
	return uint32(m.heads[lane] & (1<<prec - 1))
}

// Pop removes the symbol [start, start+freq) at precision prec from the lane: the inverse of
// Push. The interval must contain Peek(lane, prec), else Pop returns ErrSymbol. It returns
// ErrEmpty if the lane needs a word and the tail is empty. On error nothing changes. It
// panics on a precision outside 1..MaxPrec.
func (m *Message) Pop(lane int, start, freq uint32, prec uint) error {
	checkPrec(prec)
	x, err := m.pop(m.heads[lane], start, freq, prec)
	if err != nil {
		return err
	}
	m.heads[lane] = x
	return nil
}

// pop is Pop on one head value: the new head, or the error (tail untouched on error).
//
// The decoded head freq·(x>>prec) + cf - start is below 2^63 and at least
// freq·2^(31-prec) >= 1; if it is below 2^31 one word from the tail brings it back into
// [2^31, 2^63), and then it is >= freq·2^(63-prec), which is exactly the condition under
// which Push moves that word back to the tail.
func (m *Message) pop(x uint64, start, freq uint32, prec uint) (uint64, error) {
	cf := x & (1<<prec - 1)
	d := cf - uint64(start)
	if d >= uint64(freq) { // also catches cf < start (wraps around)
		return x, ErrSymbol
	}
	x = uint64(freq)*(x>>prec) + d
	if x < HeadMin {
		n := len(m.tail) - 1
		if n < 0 {
			return 0, ErrEmpty
		}
		x = x<<32 | uint64(m.tail[n])
		m.tail = m.tail[:n]
	}
	return x, nil
}

// PushBatch pushes symbol i = 0, 1, ..., n-1 with interval [starts[i], starts[i]+freqs[i])
// onto lane i % L. The slices must have the same length. Same panics as Push.
func (m *Message) PushBatch(starts, freqs []uint32, prec uint) {
	checkPrec(prec)
	if len(starts) != len(freqs) {
		panic("rans: PushBatch with slices of different lengths")
	}
	full := uint64(1) << prec
	lane, L := 0, len(m.heads)
	for i, f := range freqs {
		s := starts[i]
		if f == 0 || uint64(s)+uint64(f) > full {
			panic(fmt.Sprintf("rans: bad symbol start %d freq %d at precision %d", s, f, prec))
		}
		m.heads[lane] = m.push(m.heads[lane], s, f, prec)
		if lane++; lane == L {
			lane = 0
		}
	}
}

// PopBatch pops n symbols, i = n-1, n-2, ..., 0 from lane i % L: the inverse of a
// PushBatch of n symbols. For each, sym(i, cf) gets the lane's cumulative frequency and
// returns the interval of the symbol that holds it (recording the symbol as it likes); sym is
// called in the order i = n-1..0. On ErrEmpty or ErrSymbol the message is restored to its
// state before the call (sym has been called for some symbols by then) and the error says
// which symbol failed.
//
// The symbols go in rounds of up to L consecutive indices, one per lane: sym runs for the
// whole round before the pops of the round are committed, which gives the CPU L independent
// decodes in a row.
func (m *Message) PopBatch(n int, prec uint, sym func(i int, cf uint32) (start, freq uint32)) error {
	checkPrec(prec)
	if n <= 0 {
		return nil
	}
	L := len(m.heads)
	var saved [MaxLanes]uint64
	copy(saved[:], m.heads)
	tl := len(m.tail)
	var st, fr [MaxLanes]uint32
	mask := uint64(1)<<prec - 1
	for i := n - 1; i >= 0; {
		lo := i / L * L // the round is i..lo, lanes i-lo..0
		for j := i; j >= lo; j-- {
			st[j-lo], fr[j-lo] = sym(j, uint32(m.heads[j-lo]&mask))
		}
		for j := i; j >= lo; j-- {
			x, err := m.pop(m.heads[j-lo], st[j-lo], fr[j-lo], prec)
			if err != nil {
				copy(m.heads, saved[:L])
				m.tail = m.tail[:tl] // pops only shorten the tail: the words are still there
				return fmt.Errorf("rans: batch symbol %d: %w", j, err)
			}
			m.heads[j-lo] = x
		}
		i = lo - 1
	}
	return nil
}

// Bytes serializes the message: one byte L (the number of lanes), L heads as 8-byte
// little-endian words, then the tail as 4-byte little-endian words from the bottom of the
// stack to the top. Its length is 1 + 8L + 4·len(tail).
func (m *Message) Bytes() []byte {
	b := make([]byte, 1, 1+8*len(m.heads)+4*len(m.tail))
	b[0] = byte(len(m.heads))
	for _, h := range m.heads {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	for _, w := range m.tail {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// FromBytes parses what Bytes produced. It returns an error, never panics, on any other
// input: a lane count of 0, a length that does not fit, or a head outside [2^31, 2^63).
func FromBytes(b []byte) (*Message, error) {
	if len(b) < 1 {
		return nil, errors.New("rans: empty message bytes")
	}
	L := int(b[0])
	if L < 1 {
		return nil, errors.New("rans: message with 0 lanes")
	}
	if len(b) < 1+8*L {
		return nil, fmt.Errorf("rans: message of %d bytes too short for %d lanes", len(b), L)
	}
	if (len(b)-1-8*L)%4 != 0 {
		return nil, fmt.Errorf("rans: message tail of %d bytes is not whole words", len(b)-1-8*L)
	}
	m := &Message{heads: make([]uint64, L), tail: make([]uint32, (len(b)-1-8*L)/4)}
	p := b[1:]
	for i := range m.heads {
		h := binary.LittleEndian.Uint64(p[8*i:])
		if h < HeadMin || h >= headLimit {
			return nil, fmt.Errorf("rans: head %d = %#x outside [2^31, 2^63)", i, h)
		}
		m.heads[i] = h
	}
	p = p[8*L:]
	for i := range m.tail {
		m.tail[i] = binary.LittleEndian.Uint32(p[4*i:])
	}
	return m, nil
}
