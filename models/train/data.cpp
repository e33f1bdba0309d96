#include "models/train/data.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "base/errors.h"

namespace sushi::train {

namespace {

std::string gunzip(const std::string& path) {
  if (!std::ifstream(path))
    throw InputError(path +
                     ": Fashion-MNIST file not found (install the Debian package dataset-fashion-mnist, "
                     "tools/install-deps.sh does, or set SUSHI_FMNIST_DIR)");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open");
  std::string out;
  char buf[1 << 16];
  int got;
  while ((got = gzread(f, buf, sizeof buf)) > 0) out.append(buf, size_t(got));
  const bool bad = got < 0;
  gzclose(f);
  if (bad) throw InputError(path + ": not a valid gzip file");
  return out;
}

uint32_t be32(const std::string& b, size_t at, const std::string& path) {
  if (b.size() < at + 4) throw InputError(path + ": truncated IDX header");
  return uint32_t(uint8_t(b[at])) << 24 | uint32_t(uint8_t(b[at + 1])) << 16 |
         uint32_t(uint8_t(b[at + 2])) << 8 | uint32_t(uint8_t(b[at + 3]));
}

}  // namespace

ImageSet read_idx_gz(const std::string& images_path, const std::string& labels_path) {
  const std::string im = gunzip(images_path), lb = gunzip(labels_path);
  if (be32(im, 0, images_path) != 2051) throw InputError(images_path + ": expected IDX magic 2051 (images)");
  if (be32(lb, 0, labels_path) != 2049) throw InputError(labels_path + ": expected IDX magic 2049 (labels)");
  const uint32_t n = be32(im, 4, images_path), h = be32(im, 8, images_path), w = be32(im, 12, images_path);
  const uint32_t nl = be32(lb, 4, labels_path);
  if (n != nl)
    throw InputError(labels_path + ": " + std::to_string(nl) + " labels for " + std::to_string(n) +
                     " images");
  if (h == 0 || w == 0 || h > 4096 || w > 4096) throw InputError(images_path + ": implausible image size");
  if (im.size() != 16 + size_t(n) * h * w) throw InputError(images_path + ": size does not match the header");
  if (lb.size() != 8 + size_t(n)) throw InputError(labels_path + ": size does not match the header");
  ImageSet s;
  s.h = int(h);
  s.w = int(w);
  s.pixels.resize(size_t(n) * h * w);
  for (size_t i = 0; i < s.pixels.size(); ++i) s.pixels[i] = float(uint8_t(im[16 + i])) / 255.0f;
  s.labels.resize(n);
  for (size_t i = 0; i < n; ++i) {
    s.labels[i] = uint8_t(lb[8 + i]);
    if (s.labels[i] > 9) throw InputError(labels_path + ": label out of range 0..9");
  }
  return s;
}

std::string fashion_mnist_dir() {
  const char* env = std::getenv("SUSHI_FMNIST_DIR");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

namespace {

ImageSet subset(const ImageSet& s, const std::vector<int>& idx) {
  ImageSet o;
  o.h = s.h;
  o.w = s.w;
  const size_t plane = size_t(s.h) * s.w;
  o.pixels.resize(idx.size() * plane);
  for (size_t i = 0; i < idx.size(); ++i) {
    std::copy_n(s.image(idx[i]), plane, o.pixels.data() + i * plane);
    o.labels.push_back(s.labels[size_t(idx[i])]);
  }
  return o;
}

}  // namespace

FashionMnist load_fashion_mnist(int validation, uint64_t split_seed, int limit_train, int limit_test) {
  const std::string dir = fashion_mnist_dir();
  ImageSet all = read_idx_gz(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz");
  ImageSet test = read_idx_gz(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz");
  std::vector<int> perm(size_t(all.size()));
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = int(i);
  Rng rng(split_seed);
  rng.shuffle(perm);
  if (validation < 0 || validation >= all.size())
    throw InputError("data.validation: expected 0 .. " + std::to_string(all.size() - 1) + " images");
  std::vector<int> val(perm.end() - validation, perm.end());
  std::vector<int> tr(perm.begin(), perm.end() - validation);
  if (limit_train > 0 && limit_train < int(tr.size())) tr.resize(size_t(limit_train));
  if (limit_train > 0 && limit_train < int(val.size())) val.resize(size_t(std::max(1, limit_train / 5)));
  std::sort(tr.begin(), tr.end());
  std::sort(val.begin(), val.end());
  FashionMnist f;
  f.train = subset(all, tr);
  f.validation = subset(all, val);
  if (limit_test > 0 && limit_test < test.size()) {
    std::vector<int> t(static_cast<size_t>(limit_test));
    for (int i = 0; i < limit_test; ++i) t[size_t(i)] = i;
    test = subset(test, t);
  }
  f.test = std::move(test);
  return f;
}

void resize_bilinear(const float* src, int h, int w, float* dst, int r) {
  const double sy = double(h) / r, sx = double(w) / r;
  for (int y = 0; y < r; ++y) {
    const double fy = std::max(0.0, (y + 0.5) * sy - 0.5);
    const int y0 = std::min(int(fy), h - 1), y1 = std::min(y0 + 1, h - 1);
    const double wy = fy - y0;
    for (int x = 0; x < r; ++x) {
      const double fx = std::max(0.0, (x + 0.5) * sx - 0.5);
      const int x0 = std::min(int(fx), w - 1), x1 = std::min(x0 + 1, w - 1);
      const double wx = fx - x0;
      const double top = src[y0 * w + x0] * (1 - wx) + src[y0 * w + x1] * wx;
      const double bot = src[y1 * w + x0] * (1 - wx) + src[y1 * w + x1] * wx;
      dst[y * r + x] = float(top * (1 - wy) + bot * wy);
    }
  }
}

std::vector<float> make_batch(const ImageSet& set, const std::vector<int>& idx, int first, int count, int res,
                              bool augment, int pad, Rng& rng, std::vector<int>& labels) {
  const int h = set.h, w = set.w;
  std::vector<float> out(size_t(count) * res * res);
  std::vector<float> img(size_t(h) * w);
  labels.resize(size_t(count));
  for (int b = 0; b < count; ++b) {
    const int i = idx[size_t(first) + size_t(b)];
    labels[size_t(b)] = set.labels[size_t(i)];
    const float* src = set.image(i);
    if (augment) {
      const int dy = int(rng.uniform_int(-pad, pad)), dx = int(rng.uniform_int(-pad, pad));
      const bool flip = rng.uniform() < 0.5;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const int sy = y + dy, sx0 = x + dx;
          const int sx = flip ? w - 1 - sx0 : sx0;
          img[size_t(y) * w + x] = (sy >= 0 && sy < h && sx0 >= 0 && sx0 < w) ? src[sy * w + sx] : 0.0f;
        }
    } else {
      std::copy_n(src, size_t(h) * w, img.data());
    }
    float* dst = out.data() + size_t(b) * res * res;
    if (res == h && res == w)
      std::copy_n(img.data(), img.size(), dst);
    else
      resize_bilinear(img.data(), h, w, dst, res);
  }
  return out;
}

}  // namespace sushi::train
