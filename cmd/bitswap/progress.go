package main

// Progress bars on stderr, shared by bench, encode and decode. A bar is drawn only when
// stderr is a terminal of known size; otherwise these helpers write nothing at all.

import (
	"context"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// barWriter returns the console writer for a progress bar on w, or nil when w is not a
// terminal whose size is known (mpb draws nothing on a terminal of unknown size).
func barWriter(w io.Writer) mpb.ConsoleWriter {
	if _, ok := w.(*os.File); !ok {
		return nil
	}
	cw := cupwriter.New(w, false)
	if !cw.IsTerminal() {
		return nil
	}
	if width, _, err := cw.GetTermSize(); err != nil || width <= 0 {
		return nil
	}
	return cw
}

// newBar starts a progress container on the terminal cw with one bar of total steps: the
// name, the counters done/total, the time elapsed since start, then the decorators in more.
func newBar(ctx context.Context, cw mpb.ConsoleWriter, name string, total int64, start time.Time, more ...decor.Decorator) (*mpb.Progress, *mpb.Bar) {
	p := mpb.NewWithContext(ctx, mpb.WithConsoleWriter(cw), mpb.WithWidth(30))
	bar := p.AddBar(total,
		mpb.PrependDecorators(decor.Name(name+" "), decor.CountersNoUnit("%d/%d", decor.WCSyncSpace)),
		mpb.AppendDecorators(append([]decor.Decorator{decor.NewElapsed(decor.ET_STYLE_GO, start, decor.WCSyncSpace)}, more...)...))
	return p, bar
}

// Thresholds for the encode and decode bar: it appears once the image has more than
// barMinPatches patches or the coding has run for barDelay.
const (
	barMinPatches = 64
	barDelay      = time.Second
)

// codingBar shows the progress of one encode or decode (codec.Options.Progress: patches
// done out of total) on a terminal. A nil *codingBar does nothing.
type codingBar struct {
	ctx   context.Context
	cw    mpb.ConsoleWriter
	name  string
	now   func() time.Time
	start time.Time

	mu    sync.Mutex
	p     *mpb.Progress
	bar   *mpb.Bar
	total int // the bar's total
}

// newCodingBar returns a bar named name for stderr, or nil when stderr is not a terminal.
func newCodingBar(ctx context.Context, stderr io.Writer, name string) *codingBar {
	return newCodingBarOn(ctx, barWriter(stderr), name, time.Now)
}

// newCodingBarOn returns a bar on the terminal cw (nil: no bar) with the clock now.
func newCodingBarOn(ctx context.Context, cw mpb.ConsoleWriter, name string, now func() time.Time) *codingBar {
	if cw == nil {
		return nil
	}
	return &codingBar{ctx: ctx, cw: cw, name: name, now: now, start: now()}
}

// callback returns the function for codec.Options.Progress (nil for a nil bar, so that
// the coders do not even call it).
func (cb *codingBar) callback() func(done, total int) {
	if cb == nil {
		return nil
	}
	return cb.update
}

// update records that done of total patches are coded. The bar is created on the first
// call that finds work left and a large image or a long-running coding.
func (cb *codingBar) update(done, total int) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if total <= 0 {
		return
	}
	if cb.bar == nil {
		if done >= total || (total <= barMinPatches && cb.now().Sub(cb.start) < barDelay) {
			return
		}
		cb.p, cb.bar = newBar(cb.ctx, cb.cw, cb.name, int64(total), cb.start,
			decor.NewPercentage("%d", decor.WCSyncSpace))
		cb.total = total
	}
	if total != cb.total {
		cb.bar.SetTotal(int64(total), false)
		cb.total = total
	}
	// The count can go back: bbcore's encoder starts over with more clean patches when the
	// first ones do not hold enough bits to start the chains.
	cb.bar.SetCurrent(int64(min(max(done, 0), total)))
}

// close completes the bar (ok: the coding succeeded) or leaves it where it stopped, and
// waits until it has been drawn for the last time.
func (cb *codingBar) close(ok bool) {
	if cb == nil {
		return
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.p == nil {
		return
	}
	if ok {
		// The count may stop short of the total (the decoders do not count the clean
		// patches): show the finished coding as complete.
		cb.bar.SetCurrent(int64(cb.total))
	} else {
		cb.bar.Abort(false)
	}
	cb.p.Wait()
}
