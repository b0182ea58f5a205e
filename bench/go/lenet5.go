package main

import (
	"flag"
	"fmt"

	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/nn"
)

// lenet5Main is bench/pytorch/lenet5.py on the project: training epochs of
// the seed's LeNet5 over the 60k Fashion-MNIST images (Adam, TABLE IV), the
// evaluation of the 10k test images, and the peak RSS of training.
func lenet5Main(args []string) error {
	fs := flag.NewFlagSet("lenet5", flag.ContinueOnError)
	var c common
	c.register(fs)
	batch := fs.Int("batch", 64, "training batch size (the seed's range: 64..256)")
	epochs := fs.Int("epochs", 1, "training epochs to time")
	steps := fs.Int("steps", 0, "time only this many training steps and extrapolate to the epoch (0: the whole epoch)")
	noEval := fs.Bool("no-eval", false, "skip the test evaluation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *batch < 1 || *epochs < 1 || *steps < 0 {
		return fmt.Errorf("--batch and --epochs must be positive, --steps not negative")
	}
	choice, err := c.open()
	if err != nil {
		return err
	}

	load := startTimer()
	trainIm, testIm, err := data.LoadFashionMNIST(data.Options{Dir: c.dataDir})
	if err != nil {
		return err
	}
	loadS, _ := load.stop()
	rssData := peakRSSMiB()
	train, test := nn.FromImages(trainIm), nn.FromImages(testIm)
	n := train.Len()
	stepsPerEpoch := (n + *batch - 1) / *batch

	spec, hp := nn.SeedClassificationBest()
	hp.BatchSize, hp.Epochs = *batch, 1
	newT := startTimer()
	m, err := nn.New(choice.Backend, spec, c.seed)
	if err != nil {
		return err
	}
	newS, _ := newT.stop()

	// Warm-up: one full batch and, when the epoch ends on a smaller one, that
	// one too, so that both shapes the epoch runs are compiled before timing.
	warmRows := *batch
	if rem := n % *batch; rem != 0 {
		warmRows += rem
	}
	warm, err := train.Subset(firstRows(warmRows))
	if err != nil {
		return err
	}
	quiet := nn.Options{Seed: c.seed, Progress: nn.ProgressOff}
	compile := startTimer()
	if _, err := nn.Fit(m, warm, nil, hp, quiet); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	compileS, compileCPU := compile.stop()

	timed, scale := train, 1.0
	if *steps > 0 && *steps < stepsPerEpoch {
		if timed, err = train.Subset(firstRows(*steps * *batch)); err != nil {
			return err
		}
		scale = float64(stepsPerEpoch) / float64(*steps)
	}
	stop, err := c.profile()
	if err != nil {
		return err
	}
	var epochS, epochCPU, trainLoss []float64
	for e := 0; e < *epochs; e++ {
		t := startTimer()
		h, err := nn.Fit(m, timed, nil, hp, nn.Options{Seed: c.seed + int64(e) + 1, Progress: nn.ProgressOff})
		if err != nil {
			stop()
			return err
		}
		wall, cpu := t.stop()
		epochS = append(epochS, round3(wall*scale))
		epochCPU = append(epochCPU, round3(cpu*scale))
		trainLoss = append(trainLoss, round4(h.Last().TrainLoss))
	}
	stop()
	rssTrain := peakRSSMiB()

	fields := map[string]any{
		"batch": *batch, "epochs": *epochs, "train_images": n, "steps_per_epoch": stepsPerEpoch,
		"load_s": loadS, "new_model_s": newS, "compile_s": compileS, "compile_cpu_s": compileCPU,
		"first_step_s":  compileS, // the warm-up is the first step (two when the epoch ends on a smaller batch)
		"train_epoch_s": epochS, "train_epoch_cpu_s": epochCPU, "train_loss": trainLoss,
		"train_images_per_s":      round3(float64(n) / minOf(epochS)),
		"peak_rss_after_data_mib": round3(rssData), "peak_rss_train_mib": round3(rssTrain),
	}
	if scale != 1 {
		fields["extrapolated_from_steps"] = *steps
	}
	if !*noEval {
		// The evaluation graph compiles on its first batch: compile it on a
		// slice of the test set so that eval_s is the evaluation alone.
		evalWarm, err := test.Subset(firstRows(500))
		if err != nil {
			return err
		}
		ct := startTimer()
		if _, _, err := m.Evaluate(evalWarm); err != nil {
			return err
		}
		evalCompileS, _ := ct.stop()
		et := startTimer()
		loss, acc, err := m.Evaluate(test)
		if err != nil {
			return err
		}
		evalS, evalCPU := et.stop()
		fields["eval_images"], fields["eval_batch"] = test.Len(), 500
		fields["eval_compile_s"], fields["eval_s"], fields["eval_cpu_s"] = evalCompileS, evalS, evalCPU
		fields["test_loss"], fields["test_accuracy"] = round4(loss), round4(acc)
	}
	return report("lenet5", &c, choice, fields)
}

func firstRows(n int) []int {
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	return rows
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs[1:] {
		m = min(m, x)
	}
	return m
}
