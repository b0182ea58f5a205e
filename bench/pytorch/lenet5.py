"""LeNet5 on Fashion-MNIST, the PyTorch reference for the Go classification side.

Measures (a) the wall time of training epochs over the 60k training images with Adam at the seed's
best hyperparameters, (b) the evaluation of the 10k test images, and (f) the peak RSS of training.
Prints one JSON line. Run each batch size in its own process so that peak RSS is its own:
  /usr/bin/python3 bench/pytorch/lenet5.py --batch 64
  /usr/bin/python3 bench/pytorch/lenet5.py --batch 256
"""

import argparse

import common  # first: it sets the threading environment before torch loads
import torch
from torch import nn


def evaluate(model, x, y, batch):
    """Returns (mean cross-entropy, accuracy) over (x, y), in eval mode without gradients."""
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(x), batch):
            logits = model(x[start : start + batch])
            total += loss_fn(logits, y[start : start + batch]).item()
            correct += (logits.argmax(1) == y[start : start + batch]).sum().item()
    return total / len(x), correct / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=64, help="training batch size (seed's range: 64..256)")
    p.add_argument("--epochs", type=int, default=1, help="training epochs to time")
    p.add_argument("--eval-batch", type=int, default=1000, help="batch size of the test evaluation")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if args.batch < 1 or args.epochs < 1 or args.eval_batch < 1:
        common.fail("--batch, --epochs and --eval-batch must be positive")

    common.setup(args.seed)
    with common.Timer() as load:
        x_train, y_train = common.fashion_mnist("train")
        x_test, y_test = common.fashion_mnist("t10k")
    rss_data = common.peak_rss_mib()

    model = common.LeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=common.CNN_LR, weight_decay=common.CNN_WEIGHT_DECAY)
    loss_fn = nn.CrossEntropyLoss()
    epoch_s, epoch_cpu_s, train_loss = [], [], []
    for _ in range(args.epochs):
        with common.Timer() as t:
            train_loss.append(common.train_epoch(model, opt, loss_fn, x_train, y_train, args.batch))
        epoch_s.append(round(t.seconds, 3))
        epoch_cpu_s.append(round(t.cpu, 3))
    rss_train = common.peak_rss_mib()

    with common.Timer() as ev:
        test_loss, test_acc = evaluate(model, x_test, y_test, args.eval_batch)

    common.report(
        "lenet5", batch=args.batch, epochs=args.epochs, train_images=len(x_train),
        load_s=round(load.seconds, 3), train_epoch_s=epoch_s, train_epoch_cpu_s=epoch_cpu_s,
        train_images_per_s=round(len(x_train) / min(epoch_s), 1), train_loss=[round(v, 4) for v in train_loss],
        eval_images=len(x_test), eval_batch=args.eval_batch, eval_s=round(ev.seconds, 3), eval_cpu_s=round(ev.cpu, 3),
        test_loss=round(test_loss, 4), test_accuracy=round(test_acc, 4),
        peak_rss_after_data_mib=round(rss_data, 1), peak_rss_train_mib=round(rss_train, 1),
    )


if __name__ == "__main__":
    main()
