// Package semantic is where the models meet the radio: joint KAN-LLM-channel coding,
// task pipelines, baselines and metrics.
//
// Not built yet: this file holds the place in the layout.
package semantic
