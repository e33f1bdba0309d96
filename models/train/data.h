#pragma once
// Fashion-MNIST (Debian package dataset-fashion-mnist: gzipped IDX files under
// /usr/share/datasets/fashion-mnist/, or $SUSHI_FMNIST_DIR), a held-out validation split of the training
// set, augmentation (random crop with zero padding, horizontal flip) and resolution elasticity by bilinear
// resizing. Pixels are floats in [0, 1].
#include <cstdint>
#include <string>
#include <vector>

#include "base/random.h"

namespace sushi::train {

struct ImageSet {
  int h = 0, w = 0;
  std::vector<float> pixels;  // n x h x w
  std::vector<int> labels;
  int size() const { return int(labels.size()); }
  const float* image(int i) const { return pixels.data() + size_t(i) * h * w; }
};

// Reads one gzipped IDX images file (magic 2051) and its labels file (magic 2049); throws InputError naming
// the file and what is wrong.
ImageSet read_idx_gz(const std::string& images_path, const std::string& labels_path);

struct FashionMnist {
  ImageSet train, validation, test;
};
// The folder: $SUSHI_FMNIST_DIR when set, else /usr/share/datasets/fashion-mnist. A missing file is an
// InputError naming the Debian package that provides it. `validation` images are held out of the training
// set (the last ones of a seeded permutation), `limit_train` / `limit_test` (0 = all) cut the sets.
std::string fashion_mnist_dir();
FashionMnist load_fashion_mnist(int validation, uint64_t split_seed, int limit_train = 0, int limit_test = 0);

// A batch as NCHW floats (one channel) at resolution `res`: images idx[first .. first + count) of `set`,
// optionally augmented (pad-and-crop by up to `pad` pixels, flip with probability 1/2) from `rng`, then
// resized bilinearly to res x res when res differs from the stored size.
std::vector<float> make_batch(const ImageSet& set, const std::vector<int>& idx, int first, int count, int res,
                              bool augment, int pad, Rng& rng, std::vector<int>& labels);
// Bilinear resize (align_corners = false, as PyTorch's interpolate) of one h x w image to r x r.
void resize_bilinear(const float* src, int h, int w, float* dst, int r);

}  // namespace sushi::train
