"""The yardstick: the tutorial's training program, one network after another, as its
spec describes it (xor, np.random.seed, np.exp, np.dot; nothing added).

    python bench/tutorial_program.py [ALPHA ...] [--hidden N] [--iterations N] [--seed N]
"""

import argparse

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("alphas", nargs="*", type=float, default=[0.001, 0.01, 0.1, 1, 10, 100, 1000])
parser.add_argument("--hidden", type=int, default=4)
parser.add_argument("--iterations", type=int, default=60000)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
y = np.array([[0], [1], [1], [0]], dtype=float)
for alpha in args.alphas:
    print(f"\nTraining with alpha: {alpha}")
    np.random.seed(args.seed)
    w0 = 2 * np.random.random((3, args.hidden)) - 1
    w1 = 2 * np.random.random((args.hidden, 1)) - 1
    for j in range(args.iterations):
        l1 = sigmoid(np.dot(X, w0))
        l2 = sigmoid(np.dot(l1, w1))
        err = l2 - y
        if j % 10000 == 0:
            print(f"Error after {j} iterations: {np.mean(np.abs(err))}")
        d2 = err * l2 * (1 - l2)
        d1 = np.dot(d2, w1.T) * l1 * (1 - l1)
        w1 -= alpha * np.dot(l1.T, d2)
        w0 -= alpha * np.dot(X.T, d1)
