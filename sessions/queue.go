package sessions

import "sync"

// queue holds work handed from the event log's writer (which must never
// block) to one of the engine's loops. It never drops: a help request or
// a finished self-check must not be lost. wake has room for one signal.
type queue[T any] struct {
	mu    sync.Mutex
	items []T
	wake  chan struct{}
}

func newQueue[T any]() queue[T] { return queue[T]{wake: make(chan struct{}, 1)} }

func (q *queue[T]) push(x T) {
	q.mu.Lock()
	q.items = append(q.items, x)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take returns everything queued and empties the queue.
func (q *queue[T]) take() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// drain runs each on what q holds whenever it wakes, until stop closes,
// then on what is left.
func drain[T any](stop <-chan struct{}, q *queue[T], each func(T)) {
	for {
		select {
		case <-stop:
			for _, x := range q.take() {
				each(x)
			}
			return
		case <-q.wake:
			for _, x := range q.take() {
				each(x)
			}
		}
	}
}
