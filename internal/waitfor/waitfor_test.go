package waitfor

import (
	"testing"
	"time"
)

func TestCond(t *testing.T) {
	n := 0
	Cond(t, time.Second, "three polls", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Errorf("polled %d times", n)
	}
}

func TestRecv(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if v := Recv(t, ch, time.Second, "a value"); v != 7 {
		t.Errorf("got %d", v)
	}
	done := make(chan struct{})
	close(done)
	Recv(t, done, time.Second, "a closed channel")
}

// fatalRecorder notes a Fatalf and stops the goroutine as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestTimeouts(t *testing.T) {
	for name, wait := range map[string]func(testing.TB){
		"Cond": func(tb testing.TB) { Cond(tb, 20*time.Millisecond, "never", func() bool { return false }) },
		"Recv": func(tb testing.TB) { Recv(tb, make(chan int), 20*time.Millisecond, "never") },
	} {
		f := &fatalRecorder{TB: t}
		func() {
			defer func() {
				if r := recover(); r != f {
					t.Errorf("%s: recovered %v", name, r)
				}
			}()
			wait(f)
		}()
		if f.msg == "" {
			t.Errorf("%s did not fail the test on its time-out", name)
		}
	}
}
