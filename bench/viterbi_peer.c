/*
 * Times Phil Karn's libfec viterbi27 (Debian package libfec-dev) on the block that
 * BenchmarkViterbi decodes: 8000 data bits and 6 tail bits of the K=7 rate-1/2 code,
 * BPSK over AWGN at Eb/N0 4 dB, decoded from soft symbols.
 *
 * libfec's polynomials V27POLYA = 0x6d and V27POLYB = 0x4f are 802.11a's g0 = 133 and
 * g1 = 171 (octal) with the bit order reversed: libfec shifts each new bit into bit 0
 * of its encoder register, the standard draws the newest bit as the generator's most
 * significant digit. libfec emits the POLYA symbol first, as 802.11a emits A first, so
 * the two codes are the same.
 *
 * Soft symbols: libfec takes unsigned char 0..255, 0 a strong 0 and 255 a strong 1.
 * A received BPSK value y (bit 0 sent as +1) becomes 128 - 48*y, clamped, which keeps
 * about 2.6 standard deviations of noise at 4 dB inside the range.
 *
 * Usage: viterbi_peer [databits [seconds]]. Prints one line:
 *   libfec_viterbi27 mode=N bits=8000 blocks=B seconds=S mbps=R errors=E
 */
#include <fec.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "peer.h"


int main(int argc, char **argv) {
	int nbits = argc > 1 ? atoi(argv[1]) : 8000;
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;
	const double ebn0_db = 4.0, rate = 0.5;
	if (nbits <= 0 || nbits % 8 != 0 || seconds <= 0) {
		fprintf(stderr, "usage: %s [databits (multiple of 8) [seconds]]\n", argv[0]);
		return 2;
	}
	int nsteps = nbits + 6;
	unsigned char *bits = calloc(nsteps, 1);
	unsigned char *syms = malloc(2 * nsteps);
	unsigned char *data = malloc(nbits / 8);
	if (!bits || !syms || !data) return 1;
	for (int i = 0; i < nbits; i++) bits[i] = rng_next() >> 63;

	/* Encode as libfec numbers its register: newest bit in bit 0. */
	double sigma = sqrt(1 / (2 * rate * pow(10, ebn0_db / 10)));
	unsigned int enc = 0;
	for (int i = 0; i < nsteps; i++) {
		enc = (enc << 1) | bits[i];
		int c[2] = {__builtin_parity(enc & V27POLYA), __builtin_parity(enc & V27POLYB)};
		for (int k = 0; k < 2; k++) {
			double y = 1 - 2 * c[k] + sigma * rng_normal();
			double s = floor(128 - 48 * y + 0.5);
			syms[2 * i + k] = s < 0 ? 0 : s > 255 ? 255 : (unsigned char)s;
		}
	}

	void *vp = create_viterbi27(nbits);
	if (!vp) return 1;
	long blocks = 0;
	double start = now(), elapsed;
	do {
		for (int r = 0; r < 16; r++) {
			init_viterbi27(vp, 0);
			update_viterbi27_blk(vp, syms, nsteps);
			chainback_viterbi27(vp, data, nbits, 0);
		}
		blocks += 16;
		elapsed = now() - start;
	} while (elapsed < seconds);

	/* chainback writes the first bit into the most significant bit of data[0]. */
	int errors = 0;
	for (int i = 0; i < nbits; i++)
		errors += ((data[i / 8] >> (7 - i % 8)) & 1) != bits[i];
	printf("libfec_viterbi27 mode=%d bits=%d blocks=%ld seconds=%.3f mbps=%.2f errors=%d\n",
	       (int)Cpu_mode, nbits, blocks, elapsed, (double)nbits * blocks / elapsed / 1e6, errors);
	delete_viterbi27(vp);
	free(bits);
	free(syms);
	free(data);
	return 0;
}
