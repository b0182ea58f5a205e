#!/usr/bin/env bash
# The device machine reaches no network: before running, copy a stripped hw1 (go build -ldflags="-s -w" -o bench/gpu/hw1 ./cmd/hw1),
# the four Fashion-MNIST .gz files and the two regression CSVs into bench/gpu/ (git-ignored there), and carry the folder.
# GPU check: hw1 on XLA CUDA (plugin of the image's jax-cuda13-pjrt) beside PyTorch.
set -x
nvidia-smi -L
SP=$(python3 -c "import site;print(site.getsitepackages()[0])")
ls $SP/jax_plugins/ $SP/jax_plugins/* 2>&1 | head
P=$(ls $SP/jax_plugins/*/xla_cuda_plugin.so | head -1)
ls $SP/nvidia 2>&1 | head -30
mkdir -p /tmp/d/fashion-mnist /tmp/d/regression
cp bench/gpu/*.gz /tmp/d/fashion-mnist/; cp bench/gpu/*.csv /tmp/d/regression/
export LD_LIBRARY_PATH=$(ls -d $SP/nvidia/*/lib 2>/dev/null | tr '\n' ':')$LD_LIBRARY_PATH
export HW1_DATA_DIR=/tmp/d
timeout 120 ./bench/gpu/hw1 doctor --backend "xla:$P" 2>&1 | tee $OUT/doctor.txt
timeout 240 ./bench/gpu/hw1 cv classification --folds 1 --epochs 3 --backend "xla:$P" --progress > $OUT/hw1_cuda.json 2> $OUT/hw1_cuda.log; echo "hw1 rc=$?"
tail -20 $OUT/hw1_cuda.log; cat $OUT/hw1_cuda.json | head -60
timeout 120 python3 bench/gpu/torch_lenet5.py | tee $OUT/torch_cuda.json
