// Package sharing serves several users in one transmission: what their semantics have
// in common is sent once to a group (public), what is each one's own is sent to it
// (private). It is M4SC's multi-user part (Jiang et al. 2025), on package semantic's
// channel codec and package phy's frames.
//
// # The split
//
// Split takes K users' semantics (llm.Semantics, with each user's task and SNR) and
// finds what they share by comparing vectors, not by knowing where the contents came
// from. Vectors match when their RMS difference per real is within Options.Threshold
// (DefaultThreshold, 0.2; the vectors have unit RMS): cells showing the same object in
// related scenes differ by 0.02 to 0.16, cells showing different content by 0.5 to 1.6.
// An image is compared cell by cell (its 16 vectors); a text whole. At each cell the
// users form groups by complete linkage; groups become public parts greedily, the
// largest saving first, where the saving of sending n cells at k symbols once to m
// users instead of to each is (m-1) n k symbols, less a frame's preamble, SIGNAL and
// header unless the part replaces the members' only frame. A public part carries its
// members' mean vectors, coded for the weakest member's SNR (the codec's SNR hint).
// What no group takes is private. So unrelated contents share nothing (a few matching
// background cells never pay for a frame) and identical contents share everything.
//
// A public part sends every member the same symbols where unicast would send each its
// own, so part of what it saves goes into copies of them: one copy for every
// Options.CopyUsers members (DefaultCopyUsers, 4), at most MaxCopies, in the part's
// one frame. The copies of a symbol sit on subcarriers about 48/c apart, and each
// receiver combines them by maximal-ratio combining: 10 log10(c) dB more SNR for
// every member, and a fade of a few neighbouring subcarriers takes one copy, not the
// symbol. The SNR hint matters little to the codec (a strong member loses next to
// nothing by a frame coded for a weak one; RESULTS.md), so the copies put every member
// ahead of where its own unicast transmission would.
//
// One content, many tasks (multicast): every image task encodes an image to the same
// vectors, so all users form one group. Tasks need different bandwidths
// (Options.Bandwidth, task-aware; semantic.DefaultBandwidth by default): the public
// part is a base layer at the smallest need of its members, and a member that needs
// more (image.reconstruct) gets a private enhancement layer, its own vectors of the
// same cells at its bandwidth, which replaces the base layer's copy at its receiver.
//
// Text is shared only whole: token vectors depend on their sentence (the encoder is
// bidirectional), and a token matched alone would need its place in each member's
// sentence sent as well. Plan.Candidates counts the tokens that have a match in
// another user's sentence, what such a scheme could at best use.
//
// # Frames, addresses and order
//
// Transmit codes each part with the codec (semantic.Placement on the payload) into
// one frame: public parts as phy.KindPublic frames to a group address (GroupBase and
// up), private parts and enhancements as phy.KindSemantic frames to the user's
// address (UserAddress: 1 to MaxUsers); the header's Sequence carries the cell mask,
// its Task the bandwidth and an enhancement bit, its Length the copies (see
// enhancementBit). Public parts go first, the largest groups first, then each user's
// own frames in user order, so a user can decode as soon as its last frame has
// passed. The schedule (Burst.Schedule) reaches the receivers with the group table
// before the round, as the users' SNR reports reached the transmitter.
//
// # Receivers
//
// OverAir sends a burst on one radio.Device while K others receive (loopback devices
// on one air, each with its own channel string: SNR, fading, oscillator; or HackRFs),
// and runs phy's receiver on each one's samples, a capture at a time (so that a capture
// read back from a recording gives the same frames). Receive keeps the
// frames to the user's address and its groups' (never another user's private frame),
// combines a public frame's copies, decodes each with the codec, places the cells (an
// enhancement over the base layer),
// and runs the user's task with llm.Model.Decode. A lost frame is no failure: the
// user decodes from what arrived (a lost public part's cells from no symbols, the
// decoder's prior; a lost enhancement falls back to the base layer; a lost text gives
// no text) and Result.Partial says what was missing.
//
// # Scenarios
//
// Run drives rounds of the three scenarios (ScenarioMulticast, ScenarioOverlap,
// ScenarioText) against two unicast baselines through the same loopback channels:
// unicast semantic transmission, each user sent its own task-aware transmission at
// its own SNR through the same chain and a channel like its own, and unicast 802.11a
// at the best rate per user, each user sent its content by semantic.SchemeWiFi
// (brotli text or a PNG image over 802.11a, the model at the receiver) at the rate
// best in hindsight for its channel: the highest rate whose every frame arrived, the
// rates tried from 54 Mbit/s down over fresh realisations of the user's channel
// (6 Mbit/s, with what it brought, when none delivers). That is an upper bound on
// what any rate adaptation could do, so the comparison favours 802.11a.
// RunOptions.TX and RX name the devices instead (loopback strings, HackRFs;
// SplitDevices reads a list), each user then reporting the SNR its
// receiver measured in the round before. `m4sc share` prints and writes the lines
// and summary, and with several user counts a plot of airtime against K (PlotUsers).
// RunOptions.Watch shows the rounds as they go (the receivers' samples and frames,
// every decoded message; m4sc share --serve puts them on the live monitor) without
// ever holding them up. RESULTS.md holds the measured figures and the commands that
// made them.
//
// # Recordings
//
// With RunOptions.Record, Run writes each round's shared burst as SigMF recordings
// (package sigmf; cf32_le at 20 Msps) into a directory: RecordingAir, what the
// transmitter sent, each round's burst followed by AirMargin samples of quiet, and
// RecordingUser(u) for every user, what its receiver captured of each round
// (len(burst)+AirMargin samples), so that round r starts at the same sample in every
// recording of the run. The global key "m4sc:share" says the run (scenario, users,
// rounds, seed, overlap, SNR range, channel or devices, split options, version) and,
// in a user's recording, the user. The air's annotation of a round ("m4sc:share_round")
// keeps the schedule the receivers were given, with each frame's first sample, the
// plan's counts and each user's side of the round that is no part of the burst: the
// SNR it reported, its task and reference, and its two unicast baselines. A user's
// annotation of a round ("m4sc:share_capture") gives its stretch and the receiver's
// device string.
//
// Replay reads them back and runs only the receive side: contents drawn again from
// the scenario and seed (and checked against the recorded tasks and references),
// frames found in each user's stretch of each round, Receive and the scores, and the
// same tally as Run, so the lines and summary of a run's own recordings are Run's bit
// for bit. ReplayOptions.RX may give a user any other recording: the air passed
// through another tool's channel, a HackRF's capture of it (hackrf_transfer's int8,
// as a file device with raw= and rate=). Such a foreign recording is decoded whole,
// and its frames are put to rounds by an offset: every frame whose header matches a
// frame the air sent votes for the difference of their places, and the offset most
// votes agree on places every frame in its round. The metadata is outside input:
// what Replay takes from it is checked (every round once, schedules Receive can take,
// stretches within the data), and a recording that is missing, of another run or
// user, cut short, or without a frame of the run is refused with ErrRecording.
//
// What it is not: no retransmission, no group management protocol, no source coding
// of its own (802.11a's brotli and PNG are the baseline's).
package sharing
