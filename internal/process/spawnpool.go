package process

// spawnerThreads is how many spawner threads fork at once. A fork keeps
// its thread (and the thread's P) until the child has exec'd, using no
// CPU meanwhile; with two, the next child's clone and the last one's exec
// overlap, as they do on two CPUs.
const spawnerThreads = 2

// spawnPool is a set of spawner threads, each with a descriptor table of
// its own; a spawn takes whichever thread is free. A thread serves one
// caller at a time, from the request to the descriptors received, so
// the descriptors one passes reach the caller they belong to.
type spawnPool struct {
	all  []*spawner
	free chan *spawner
}

// newSpawnPool starts n spawner threads, or none if one cannot start.
func newSpawnPool(n int) (*spawnPool, error) {
	pool := &spawnPool{free: make(chan *spawner, n)}
	for range n {
		sp, err := newSpawner()
		if err != nil {
			pool.stop()
			return nil, err
		}
		pool.all = append(pool.all, sp)
		pool.free <- sp
	}
	return pool, nil
}

// spawn runs req on a free spawner thread (see spawner.spawn).
func (pool *spawnPool) spawn(req *spawnReq) (pid int, rds []int, err error) {
	sp := <-pool.free
	defer func() { pool.free <- sp }()
	return sp.spawn(req)
}

// stop ends every thread and waits for them; no spawn may be under way.
func (pool *spawnPool) stop() {
	for _, sp := range pool.all {
		sp.stop()
	}
}
