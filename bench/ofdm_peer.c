/*
 * Times liquid-dsp's OFDM frame synchroniser, ofdmflexframesync (Debian package
 * libliquid-dev), on a stream like BenchmarkReceiverSemantic's: frames at 50% duty
 * cycle, each preceded by an idle gap as long as itself, complex white Gaussian noise
 * over the whole stream at 20 dB below the frames' mean power (full band), fed to the
 * synchroniser in chunks of 16384 samples.
 *
 * Frames: ofdmflexframegen with M = 64 subcarriers, cyclic prefix 16, taper 4, the
 * default subcarrier allocation (p = NULL: 44 data, 6 pilots, 14 null for M = 64),
 * payload QPSK without FEC (fec0 = fec1 = LIQUID_FEC_NONE) and with a CRC-32 (check =
 * LIQUID_CRC_32), which the synchroniser verifies; the header (8 user octets carrying
 * the frame number) keeps liquid's default header coding. A 1000-octet payload plus
 * its CRC is 4016 QPSK symbols: 92 OFDM symbols of 44 data subcarriers, the payload
 * duration of the semantic frame of 48*92 analog symbols that the Go benchmark sends.
 *
 * The callback counts frames whose header and payload are valid and whose payload
 * equals what was sent for the frame number in the header.
 *
 * Usage: ofdm_peer [payload octets [seconds [snr dB]]]. Prints one line:
 *   liquid_ofdmflexframesync version=V M=64 cp=16 taper=4 data=44 pilot=6 payload=1000
 *   payload_symbols=92 frame_symbols=F frame_samples=S stream_samples=N reps=R
 *   seconds=T msps=X frames_per_s=Y frames_ok=K/L false=Z
 */
#include <liquid/liquid.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "peer.h"

enum { M = 64, CP = 16, TAPER = 4, NFRAMES = 32, CHUNK = 16384 };


struct rx {
	unsigned char *payloads; /* NFRAMES x payload_len, as sent */
	unsigned int payload_len;
	long ok;    /* frames decoded with valid header, valid CRC and the payload sent */
	long other; /* callbacks for anything else: failed header or payload, false alarms */
};

static int callback(unsigned char *header, int header_valid, unsigned char *payload,
                    unsigned int payload_len, int payload_valid, framesyncstats_s stats,
                    void *userdata) {
	struct rx *r = userdata;
	(void)stats;
	unsigned int i = header[0] | (unsigned int)header[1] << 8;
	if (header_valid && payload_valid && payload_len == r->payload_len && i < NFRAMES &&
	    memcmp(payload, r->payloads + (size_t)i * r->payload_len, payload_len) == 0)
		r->ok++;
	else
		r->other++;
	return 0;
}

int main(int argc, char **argv) {
	unsigned int payload_len = argc > 1 ? (unsigned int)atoi(argv[1]) : 1000;
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;
	double snr_db = argc > 3 ? atof(argv[3]) : 20.0;
	if (payload_len == 0 || payload_len > 65535 || seconds <= 0) {
		fprintf(stderr, "usage: %s [payload octets [seconds [snr dB]]]\n", argv[0]);
		return 2;
	}

	unsigned char sc[M];
	unsigned int n_null, n_pilot, n_data;
	ofdmframe_init_default_sctype(M, sc); /* what p = NULL selects */
	ofdmframe_validate_sctype(sc, M, &n_null, &n_pilot, &n_data);

	ofdmflexframegenprops_s props;
	ofdmflexframegenprops_init_default(&props);
	props.check = LIQUID_CRC_32;
	props.fec0 = LIQUID_FEC_NONE;
	props.fec1 = LIQUID_FEC_NONE;
	props.mod_scheme = LIQUID_MODEM_QPSK;
	ofdmflexframegen fg = ofdmflexframegen_create(M, CP, TAPER, NULL, &props);

	/* Frames, each written symbol by symbol until the generator says it is complete. */
	struct rx r = {.payload_len = payload_len};
	r.payloads = malloc((size_t)NFRAMES * payload_len);
	complex float *frames[NFRAMES];
	size_t flen[NFRAMES], total = 0;
	unsigned int frame_symbols = 0;
	double power = 0;
	for (int i = 0; i < NFRAMES; i++) {
		unsigned char header[8] = {i & 0xff, i >> 8, 'm', '4', 's', 'c', 0, 0};
		unsigned char *p = r.payloads + (size_t)i * payload_len;
		for (unsigned int j = 0; j < payload_len; j++) p[j] = rng_next() >> 56;
		ofdmflexframegen_assemble(fg, header, p, payload_len);
		frame_symbols = ofdmflexframegen_getframelen(fg);
		size_t cap = (size_t)(frame_symbols + 4) * (M + CP), n = 0;
		frames[i] = malloc(cap * sizeof(complex float));
		int done = 0;
		while (!done) {
			if (n + M + CP > cap) {
				fprintf(stderr, "frame longer than getframelen says\n");
				return 1;
			}
			done = ofdmflexframegen_write(fg, frames[i] + n, M + CP);
			n += M + CP;
		}
		flen[i] = n;
		total += 2 * n;
		for (size_t j = 0; j < n; j++)
			power += crealf(frames[i][j]) * crealf(frames[i][j]) + cimagf(frames[i][j]) * cimagf(frames[i][j]);
	}
	power /= total / 2;

	/* The stream: gap, frame, gap, frame, ...; noise everywhere. */
	complex float *x = calloc(total, sizeof(complex float));
	size_t at = 0;
	for (int i = 0; i < NFRAMES; i++) {
		at += flen[i];
		memcpy(x + at, frames[i], flen[i] * sizeof(complex float));
		at += flen[i];
	}
	double sigma = sqrt(power / pow(10, snr_db / 10) / 2);
	for (size_t j = 0; j < total; j++)
		x[j] += sigma * rng_normal() + I * sigma * rng_normal();

	ofdmflexframesync fs = ofdmflexframesync_create(M, CP, TAPER, NULL, callback, &r);
	long reps = 0;
	double start = now(), elapsed;
	do {
		for (size_t j = 0; j < total; j += CHUNK) {
			size_t n = total - j < CHUNK ? total - j : CHUNK;
			ofdmflexframesync_execute(fs, x + j, n);
		}
		reps++;
		elapsed = now() - start;
	} while (elapsed < seconds);

	unsigned int payload_symbols = ((payload_len + 4) * 8 / 2 + n_data - 1) / n_data;
	printf("liquid_ofdmflexframesync version=%s M=%d cp=%d taper=%d data=%u pilot=%u payload=%u "
	       "payload_symbols=%u frame_symbols=%u frame_samples=%zu stream_samples=%zu reps=%ld "
	       "seconds=%.3f msps=%.2f frames_per_s=%.0f frames_ok=%ld/%ld false=%ld\n",
	       liquid_libversion(), M, CP, TAPER, n_data, n_pilot, payload_len, payload_symbols,
	       frame_symbols, flen[0], total, reps, elapsed, (double)total * reps / elapsed / 1e6,
	       (double)NFRAMES * reps / elapsed, r.ok, (long)NFRAMES * reps, r.other);

	ofdmflexframesync_destroy(fs);
	ofdmflexframegen_destroy(fg);
	for (int i = 0; i < NFRAMES; i++) free(frames[i]);
	free(x);
	free(r.payloads);
	return 0; /* frames_ok says whether every frame came through; the script checks it */
}
