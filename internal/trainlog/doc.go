// Package trainlog reports on the training stages of m4sc ("m4sc train
// --stage lm|align|instruct"): what a person watching a run for hours wants
// to see, and what is left afterwards to compare runs.
//
//   - Progress shows step, loss, tokens/s and ETA: a redrawn bar on a
//     terminal, a plain line every DefaultLogInterval in a log file.
//   - CurveWriter appends loss-curve rows to a CSV file (see Header) that
//     survives kill -9 and continues without duplicates when a run resumes
//     from a checkpoint (OpenCurve); ReadCurve reads it back.
//   - PlotCurves draws such rows as a PNG: raw loss, its moving average and
//     validation points, one colour per stage.
//
// It is not a metrics server or an experiment tracker: it writes files and
// lines, and the command decides where they go. Nothing here prints except
// to the io.Writer it is given.
//
// Why these libraries: github.com/schollz/progressbar/v3 already handles
// redrawing one line, fitting it to the terminal's width and counting wide
// characters, which is fiddly to get right; golang.org/x/term tells a terminal
// from a file, because a bar's carriage returns turn a CI log into one
// endless line. gonum.org/v1/plot is pure Go with its own fonts, so plots come
// out the same on a headless CI machine as on a laptop, with no Python or
// gnuplot, and it shares gonum with the project's numeric code. The CSV uses
// encoding/csv so that a spreadsheet, pandas or awk reads it as it is.
//
// Main entry points: NewProgress, OpenCurve, ReadCurve, PlotCurves.
package trainlog
