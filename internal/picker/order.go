package picker

// order keeps the pieces of one priority level sorted by availability, rarest
// first, in buckets of equal availability. Changing a piece's availability by
// one moves it across one bucket boundary with a single swap, so updates are
// O(1) and a pick walks from the front without sorting anything. Inserting or
// removing a piece costs one swap per bucket it crosses (buckets ≈ peers).
type order struct {
	pieces []int32 // sorted by availability
	// start[a] is the index of the first piece of availability a; the bucket
	// of availability a is pieces[start[a]:start[a+1]], and the last bucket
	// runs to the end of pieces.
	start []int32
}

// bucketEnd returns the end (exclusive) of the bucket of availability a.
func (o *order) bucketEnd(a int) int32 {
	if a+1 < len(o.start) {
		return o.start[a+1]
	}
	return int32(len(o.pieces))
}

// grow makes sure there is a bucket for availability a.
func (o *order) grow(a int) {
	for len(o.start) <= a {
		o.start = append(o.start, int32(len(o.pieces)))
	}
}

func (o *order) swap(pos []int32, i, j int32) {
	if i == j {
		return
	}
	pi, pj := o.pieces[i], o.pieces[j]
	o.pieces[i], o.pieces[j] = pj, pi
	pos[pi], pos[pj] = j, i
}

// inc moves piece x from bucket a to bucket a+1.
func (o *order) inc(pos []int32, x int32, a int) {
	o.grow(a + 1)
	last := o.start[a+1] - 1
	o.swap(pos, pos[x], last)
	o.start[a+1]--
}

// dec moves piece x from bucket a to bucket a-1.
func (o *order) dec(pos []int32, x int32, a int) {
	first := o.start[a]
	o.swap(pos, pos[x], first)
	o.start[a]++
}

// insert adds piece x with availability a.
func (o *order) insert(pos []int32, x int32, a int) {
	o.grow(a)
	o.pieces = append(o.pieces, x)
	p := int32(len(o.pieces) - 1)
	pos[x] = p
	for b := len(o.start) - 1; b > a; b-- {
		first := o.start[b]
		o.swap(pos, pos[x], first)
		o.start[b]++
	}
}

// remove takes piece x, of availability a, out of the order.
func (o *order) remove(pos []int32, x int32, a int) {
	for b := a; b < len(o.start)-1; b++ {
		last := o.start[b+1] - 1
		o.swap(pos, pos[x], last)
		o.start[b+1]--
	}
	o.swap(pos, pos[x], int32(len(o.pieces)-1))
	o.pieces = o.pieces[:len(o.pieces)-1]
	pos[x] = -1
}
