/* Helpers shared by the peer benchmarks: a seeded generator for test data and a
 * monotonic clock. Header-only; each program includes it once. */
#ifndef M4SC_BENCH_PEER_H
#define M4SC_BENCH_PEER_H

#include <math.h>
#include <stdint.h>
#include <time.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* rng_next is xorshift64*: fast, seeded, good enough for benchmark inputs. */
static uint64_t rng_next(void) {
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static double rng_uniform(void) { return ((rng_next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

/* rng_normal is a standard normal deviate by the Box-Muller transform. */
static double rng_normal(void) {
	return sqrt(-2 * log(rng_uniform())) * cos(2 * M_PI * rng_uniform());
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

#endif
