// Package llm is m4sc's tailored multi-modal language model (MLLM): it turns text and
// images into semantic vectors at the transmitter and turns received, possibly
// distorted, semantic vectors plus an instruction into each task's output at the
// receiver (Jiang et al., "M4SC: an MLLM-based multi-modal, multi-task and multi-user
// semantic communication system", 2025, sections III-IV, reduced to what trains on
// two CPU cores).
//
// # Data flow
//
// Transmitter, Model.Encode:
//
//	text:  tokens -> token + position embeddings -> EncLayers bidirectional blocks
//	       -> LayerNorm -> one row per token                        [n, Dim]
//	image: stem to a 4x4 grid of ImgDim features (StemConv: four 3x3 convolutions,
//	       strides 1, 2, 2, 2, as shipped; StemPatch: 16 patches of 8x8x3, linear)
//	       -> + cell positions -> ImgLayers bidirectional blocks
//	       -> projector (KAN, or the MLP ablation)                    [16, Dim]
//	both:  semantic head: linear Dim -> SemDim, RMS-normalised      [n, SemDim]
//
// Text and image rows land in the language model's space before the shared semantic
// head, so both modalities are carried by vectors of one semantic space; the
// projector is where images are aligned into it. Each vector has unit
// root-mean-square, so channel noise of standard deviation sigma on every real means
// an SNR of -20 log10(sigma) dB.
//
// Receiver, Model.Decode: the vectors are mapped back (linear SemDim -> Dim) and
// placed in the instruction template, which is the same for every task:
//
//	<bos><task>vqa</task><text>what color is the circle?</text><image><sem>x16</image><response>
//
// (text inputs are framed by <text> ... </text>, one <sem> per token; only image.vqa
// has the question block, placed before the image so that the image slots, read
// causally, can already attend to it; image slot i also carries a learned embedding
// of its cell i, PromptLayout). A decoder-only transformer (Layers pre-norm blocks,
// learned positions, GELU MLP, output tied to the token embedding) reads it causally
// and generates the response greedily or by beam search with a key/value cache.
// image.reconstruct instead appends 16 cell queries after <response> (pad tokens with
// the cell embeddings) and maps their hidden states through the image decoder head
// (an MLP to 8x8x3 pixels in [0, 1]): query i sees every image slot, so the parts of
// objects that overhang cell i from a later cell are in reach.
//
// Alignment for text.transmit: the response position that predicts token i also
// receives slot i's vector in its input, and text slot i and response position i share
// a learned index embedding; the decoder thus reads each token's semantics where it
// emits it, and its causal context repairs what channel noise blurred. This is what a
// cross-attention decoder (DeepSC) gets from its alignment, in decoder-only form.
//
// # Tasks
//
// text.transmit (reproduce the sentence), text.era (the quarter-century of its
// address), image.caption, image.vqa (the question is the receiver's), image.classify
// (digits), image.reconstruct. See Task.
//
// # Training
//
// Train runs one Stage: StageLM (language modelling on the State of the Union
// training split), StageAlign (images through the projector: captions, questions,
// digits, reconstruction, some language modelling kept), StageInstruct (every task,
// through InstructNoise: half of the messages with Gaussian noise of standard
// deviation up to MaxTrainSigma on their semantic vectors). AdamW with warmup and cosine decay, global gradient-norm
// clipping at 1; each step's batch is a function of (seed, stage, step) only, so a run
// resumed from its checkpoint ends with the same weights as an uninterrupted one.
// `m4sc train` drives it with progress, checkpoints and loss curves.
//
// TrainOptions.Channel puts a Channel between the semantic head and the decoder in
// every pass (in place of InstructNoise): the batch hands it the vectors and the
// messages they form, and its parameters train with the model's, so a channel code
// learns on the model's own task losses. TrainOptions.Trainable freezes the rest.
// This package knows no radio; package semantic's JointChannel is the codec over a
// simulated receiver.
//
// In StageAlign and StageInstruct the image semantic vectors also feed training-only
// linear readouts (Config.AuxHeads, heads.go): for generated scenes, which object (shape,
// colour, size, or none) is centred in each vector's cell and where; for digits, the
// class. They give the image encoder a direct signal, as a pre-trained vision backbone
// would bring, and make the attributes linearly readable in what the channel carries.
// Inference never runs them.
//
// StageInstruct adds the role head (Config.RoleHead): after RoleLayer decoder blocks,
// each image slot of an image.vqa example names its cell's part in the question
// (dataset.QA.Roles: the object asked about or counted, the object a relation compares
// it with, or neither). In layout 1 the slots come after the question and can attend
// to it; the head teaches them to find what it names, which the answer then only has
// to compare or count.
//
// Counting needs no more than that; relations did. With the role head alone they
// stayed at chance, so StageInstruct also adds a spatial readout (Config.GeoReadout,
// readout.go), which runs at inference too: the role head's probabilities, normalised over
// the cells, give the expected centres of the question's two objects (each cell's
// centre refined by an offset head trained on the objects' centres); a direction head
// reads from the question which way it looks (dataset.QA.Toward); and the readout
// (the centres, their difference, and the sign of the difference along that direction)
// is added, through a learned map, to every decoder position after the image, at the
// same depth. The decoder still writes the answer.
//
// # Shapes and files
//
// Images are HWC float32 [ImageSize*ImageSize*ImageChannels] in [0, 1]. Parameters are
// named by path ("llm/block0/attn/wqkv", "img/block1/mlp/w1", "proj/kan/coef",
// "sem/out/w"); Save writes them as F32 safetensors with the Config under the
// metadata key MetaConfig, and Load/Read build the model from that alone. The shipped
// weights are in package llm/weights.
//
// Not here: the channel (package semantic), multi-user sharing (package sharing).
package llm
