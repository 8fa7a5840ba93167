// Package trial runs trial plans: field trials over HackRFs, lab runs on the loopback
// simulator and the simulated CI mode, from one YAML plan, into one directory that
// can be archived, replayed and reported on.
//
// Entry points: Parse reads and validates a plan (errors name the field and the
// line: *PlanError); Run executes it into a trial directory; Transmit and Receive run
// its two ends in two processes; Score scores a recording made elsewhere of what
// Transmit sent; Resume continues an interrupted one; Replay decodes a directory's
// recordings again and compares the results; WriteReport redraws its report; Check
// evaluates a plan's thresholds; ReadSoak sums up a soak; CIPlan is the embedded plan
// of m4sc trial run --ci.
//
// # Plan
//
//	name: lab                      # free text
//	seed: 7                        # everything random follows from it (default 1)
//	tx: loopback:hackrf            # device strings (m4sc devices)
//	rx: loopback:hackrf            # a loopback, hackrf:SERIAL, or file:RECORDING
//	frequency: 2.45e9              # Hz, optional
//	calibration: {run: true}       # or {profile: cal.yaml}; optional
//	steps:
//	  - name: text                 # default stepN; names the recordings' folder
//	    task: text.transmit        # text.transmit, text.era, image.caption, image.vqa,
//	                               # image.classify, image.reconstruct
//	    content: {count: 4}        # or index: [0, 5], texts: ["..."], files: [a.txt, b.png]
//	    schemes: [semantic, digital, 80211a]   # default semantic
//	    bandwidth: 16              # semantic symbols per vector: 4, 8, 16
//	    rate: 12                   # Mbit/s of digital and 80211a (DefaultRate)
//	    image_format: png          # or jpeg, 80211a's image coding
//	    snr: [0, 10, 20]           # loopback only: one run per SNR, dB
//	    channel: epa               # loopback only: multipath profile
//	    doppler: 5                 # loopback only: Hz
//	    snr_hint: 15               # dB the transmitter assumes (default: the run's SNR)
//	    tx_gains: {txvga: 30}      # named gain stages, dB (hardware)
//	    rx_gains: {lna: 16, vga: 20}
//	    repeats: 2                 # default 1
//	    seed: 3                    # default derived from the plan's seed
//	thresholds:                    # least figures (m4sc trial run --ci fails below them)
//	  - {task: text.transmit, scheme: semantic, snr: 20, min: 0.9, max_frame_loss: 0.1}
//	soak:                          # optional: repeat the steps for a time
//	  duration: 1h                 # wall time, 1s to MaxSoak
//	  duty: 0.5                    # frames' share of what the receiver hears (default 1)
//	  stats: 1m                    # how often soak.jsonl samples the process (DefaultSoakStats)
//
// Held-out content (count or index) is the SOTU test sentences (text tasks), the test
// digits (image.classify) and the test scenes by index (the other image tasks; an
// image.vqa scene's question is picked by the step's seed). Files are relative to the
// plan's directory: text files give a sentence a line, images are PNG or JPEG.
//
// Each step runs once per SNR, scheme and repeat: a run sends every input of the step
// in one burst (the inputs' messages numbered from 0), receives it, records the
// receive side and decodes it. A run's loopback devices are opened afresh with the
// run's seed, so runs do not share noise; the hackrf preset's crystal errors are drawn
// once from the plan's seed, so every run, and the calibration, has the same pair.
//
// # Trial directory
//
//	plan.yaml            the resolved plan (defaults filled in), m4sc: version, model_sha256 (role: rx from trial rx)
//	calibration.yaml     the calibration profile applied, if any
//	recordings/NN-STEP/SCHEME[-snrS][-rR][-cC].sigmf-{meta,data}   receive side of each run,
//	                     its annotation holding the inputs' message layout and, if the
//	                     receiver failed, why; ci8 when every sample is on a HackRF's
//	                     8-bit grid (a HackRF, the loopback's hackrf preset), else cf32
//	results.jsonl        one Result per input and run, in run order: nothing but what
//	                     the plan, the model and the recordings determine
//	timing.jsonl         wall-clock start and duration of each run (rx_failed: why its receiver stopped)
//	soak.jsonl           a soak's samples of the process (SoakSample)
//	report.md, plots/    the summary table, thresholds, a soak's findings and plots (PNG)
//	report.html          the same as one self-contained page
//
// # Robustness
//
// A run's lines are appended to results.jsonl in one write, synced, once the run is
// over, so an interruption (Ctrl-C, a killed process, a failing device) leaves whole
// runs only; Resume drops a run cut short and goes on. A write that fails part way
// (a full disk) is cut back off, and the trial stops with a *WriteError naming the
// file and the cause (disk full, no permission); every run before it stays valid.
//
// Receivers other than recordings are opened under radio.WatchRX: one that delivers
// nothing for Options.StallTimeout (radio.DefaultStallTimeout) ends its run, which is
// recorded and decoded as far as it got; the lines of items that lost frames give the
// device's words as lost_reason and, where nothing arrived, error ("device stopped
// streaming after N samples"), and the trial goes on with the next run. Every line
// with frames lost says why in lost_reason: not detected, detected without a valid
// header, a payload that failed its check, the run not heard, or the receiver's
// failure.
//
// # Soak
//
// A plan with a soak block runs its runs in cycles, each cycle with seeds of its own,
// until the duration has passed; the receiver hears Duty of frames and the rest quiet
// (on the loopback the capture margin is the receiver's own start offset, so a soak
// plan keeps it short). Between runs, every Stats, soak.jsonl gets the process's
// resident memory (/proc/self/status VmRSS), goroutines, open files (/proc/self/fd)
// and the frames sent and lost. ReadSoak, and the report, say whether resident memory
// stayed within SoakMemoryTolerance of its value after the first interval (at the end
// and along its least-squares trend; the highest sample is reported beside), whether
// goroutines or open files grew from then, and whether every frame sent is in
// results.jsonl, decoded or lost with a reason. A resumed soak runs what is left of
// its duration. Soaks run in one process (not Transmit, Receive or Score).
//
// # Two hosts
//
// Transmit (m4sc trial tx) and Receive (m4sc trial rx) run the two ends as separate
// processes, each with its own device. The transmitter sends the runs in order, each
// after DefaultRunGap samples of silence, its frames addressed to RunAddress(run);
// the receiver knows from the plan and its seeds what each run sent, cuts the stream
// into runs by the header's address, counts a run's messages by the header's sequence
// numbers, and writes the same directory as Run: a run it did not hear, or heard in
// part, has its frames counted lost. Each run is decoded from its recording, so Replay
// reproduces the receiver's results.jsonl. On one machine the two share a simulated
// channel through a file: TXOptions.Air writes the transmission as it goes and
// RXOptions.Air plays it into the receiver's loopback.
//
// Score is Receive from a recording another tool made of Transmit's signal: a SigMF
// pair, or a raw capture (hackrf_transfer's int8 I,Q, scale 1/128, usually .cs8 or
// .iq; float32 .cf32) with its rate and frequency given. The recording must be at
// 20 Msps, the PHY's rate (nothing resamples) and whole samples; it is checked before
// the directory is made.
//
// What it is not: no plotting of its own beyond the report; the live monitor is
// package trial/monitor, a Sink.
package trial
