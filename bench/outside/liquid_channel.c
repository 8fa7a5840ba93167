// liquid_channel: pass a cf32_le recording through liquid-dsp's channel emulator
// (channel_cccf: carrier offset, multipath, white noise), so m4sc's receiver is tried on
// impairments added by a tool that is not m4sc.
//
//   liquid_channel IN OUT SNR_DB CFO_RAD_PER_SAMPLE SEED
//
// Idle air (PAD zero samples) is added before and after the recording, so the
// receiver must find the burst in noise. The signal is first scaled to unit mean power over its bursts (samples whose power
// is above a hundredth of the peak), which is what channel_cccf_add_awgn assumes, so
// SNR_DB is the burst's SNR over the whole band. The multipath is fixed: taps at 0, 3
// and 7 samples (within the 16-sample cyclic prefix at 20 MS/s).
#include <complex.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <liquid/liquid.h>

int main(int argc, char **argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: %s IN OUT SNR_DB CFO_RAD_PER_SAMPLE SEED\n", argv[0]);
		return 2;
	}
	FILE *in = fopen(argv[1], "rb");
	if (!in) {
		perror(argv[1]);
		return 1;
	}
	fseek(in, 0, SEEK_END);
	long bytes = ftell(in);
	fseek(in, 0, SEEK_SET);
	enum { PAD = 1000 };
	unsigned int m = (unsigned int)(bytes / sizeof(float complex)), n = m + 2 * PAD;
	float complex *x = calloc(n, sizeof *x), *y = malloc(n * sizeof *y);
	if (!x || !y || fread(x + PAD, sizeof *x, m, in) != m) {
		fprintf(stderr, "%s: cannot read %u samples\n", argv[1], m);
		return 1;
	}
	fclose(in);
	float peak = 0;
	for (unsigned int i = 0; i < n; i++) {
		float p = crealf(x[i] * conjf(x[i]));
		if (p > peak) peak = p;
	}
	double sum = 0;
	unsigned int on = 0;
	for (unsigned int i = 0; i < n; i++) {
		float p = crealf(x[i] * conjf(x[i]));
		if (p > peak / 100) {
			sum += p;
			on++;
		}
	}
	if (on == 0) {
		fprintf(stderr, "%s: no signal\n", argv[1]);
		return 1;
	}
	float g = 1 / sqrtf((float)(sum / on));
	for (unsigned int i = 0; i < n; i++) x[i] *= g;

	srand((unsigned int)atoi(argv[5]));
	channel_cccf ch = channel_cccf_create();
	float complex h[8] = {1, 0, 0, 0.35f - 0.2f * I, 0, 0, 0, 0.15f + 0.1f * I};
	channel_cccf_add_multipath(ch, h, 8);
	channel_cccf_add_carrier_offset(ch, (float)atof(argv[4]), 0.7f);
	// A noise floor of -SNR dB keeps the signal at unit power.
	channel_cccf_add_awgn(ch, -(float)atof(argv[3]), (float)atof(argv[3]));
	channel_cccf_execute_block(ch, x, n, y);
	channel_cccf_destroy(ch);

	FILE *out = fopen(argv[2], "wb");
	if (!out || fwrite(y, sizeof *y, n, out) != n || fclose(out) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
