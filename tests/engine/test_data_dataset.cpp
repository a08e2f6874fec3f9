// Dataset helpers: subsets, seeded split, batch gathering without reallocation,
// normalisation, target assignment, and the bilinear resize used for image folders.
#include <QtTest>

#include <numeric>
#include <set>

#include "engine/data/dataset.h"
#include "engine/data/resize.h"

using namespace qat;

namespace {

// N samples of shape (2, 3): sample i holds i*100 + k for k = 0..5; label i % 3.
Dataset makeData(int n) {
  Dataset d;
  d.x = Tensor(Shape{n, 2, 3});
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < 6; ++k) d.x[size_t(i * 6 + k)] = float(i * 100 + k);
  for (int i = 0; i < n; ++i) d.labels.push_back(i % 3);
  d.numClasses = 3;
  d.source = "synthetic";
  return d;
}

// Sample index recovered from its first value.
int idOf(const Tensor& x, int row) { return int(x[size_t(row) * (x.size() / size_t(x.dim(0)))]) / 100; }

}  // namespace

class TestDataDataset : public QObject {
  Q_OBJECT
 private slots:
  void subsetAndTake() {
    const Dataset d = makeData(10);
    QCOMPARE(d.size(), size_t(10));
    QCOMPARE(d.sampleShape(), (Shape{2, 3}));
    const Dataset s = subset(d, 4);
    QCOMPARE(s.x.shape(), (Shape{4, 2, 3}));
    QCOMPARE(s.labels, (std::vector<int>{0, 1, 2, 0}));
    QCOMPARE(subset(d, 99).size(), size_t(10));
    const std::vector<int> idx = {7, 2, 7};
    const Dataset t = take(d, idx);
    QCOMPARE(t.size(), size_t(3));
    QCOMPARE(t.x[0], 700.0f);
    QCOMPARE(t.x[5], 705.0f);
    QCOMPARE(t.x[6], 200.0f);
    QCOMPARE(t.labels, (std::vector<int>{1, 2, 1}));
    QCOMPARE(t.numClasses, 3);
    QVERIFY(validateDataset(t).ok());
  }

  void splitIsSeededAndDisjoint() {
    const Dataset d = makeData(50);
    auto a = splitTrainValidation(d, 0.2, 42);
    auto b = splitTrainValidation(d, 0.2, 42);
    auto c = splitTrainValidation(d, 0.2, 7);
    QVERIFY(a.ok() && b.ok() && c.ok());
    QCOMPARE(a->validation.size(), size_t(10));
    QCOMPARE(a->train.size(), size_t(40));
    std::set<int> seen;
    bool sameAsB = true, sameAsC = true, inOrder = true;
    for (int i = 0; i < 10; ++i) {
      const int id = idOf(a->validation.x, i);
      seen.insert(id);
      sameAsB = sameAsB && id == idOf(b->validation.x, i);
      sameAsC = sameAsC && id == idOf(c->validation.x, i);
      inOrder = inOrder && id == i;
      QCOMPARE(a->validation.labels[size_t(i)], id % 3);  // labels travel with their samples
    }
    for (int i = 0; i < 40; ++i) seen.insert(idOf(a->train.x, i));
    QCOMPARE(seen.size(), size_t(50));  // every sample exactly once
    QVERIFY(sameAsB);
    QVERIFY(!sameAsC);
    QVERIFY(!inOrder);  // shuffled
    QVERIFY(!splitTrainValidation(d, 1.0, 1).ok());
    QVERIFY(!splitTrainValidation(d, -0.1, 1).ok());
    auto none = splitTrainValidation(d, 0.0, 1);
    QVERIFY(none.ok());
    QCOMPARE(none->validation.size(), size_t(0));
    QCOMPARE(none->train.size(), size_t(50));
  }

  void shuffledIndicesIsAPermutation() {
    Rng rng(5);
    std::vector<int> p = shuffledIndices(1000, rng);
    std::vector<int> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> iota(1000);
    std::iota(iota.begin(), iota.end(), 0);
    QCOMPARE(sorted, iota);
    QVERIFY(p != iota);
  }

  void gatherBatchReusesBuffers() {
    const Dataset d = makeData(100);
    Tensor xb;
    std::vector<int> yb;
    const std::vector<int> big = {3, 99, 0, 50, 51, 52, 53, 54};
    gatherBatch(d, big, xb, yb);
    QCOMPARE(xb.shape(), (Shape{8, 2, 3}));
    for (int i = 0; i < 8; ++i) {
      QCOMPARE(idOf(xb, i), big[size_t(i)]);
      QCOMPARE(xb[size_t(i) * 6 + 5], float(big[size_t(i)] * 100 + 5));
      QCOMPARE(yb[size_t(i)], big[size_t(i)] % 3);
    }
    const float* xp = xb.data();
    const int* yp = yb.data();
    // Smaller last batch, then full-size again: no reallocation.
    const std::vector<int> small = {10, 11, 12};
    gatherBatch(d, small, xb, yb);
    QCOMPARE(xb.shape(), (Shape{3, 2, 3}));
    QCOMPARE(idOf(xb, 2), 12);
    QCOMPARE(yb.size(), size_t(3));
    gatherBatch(d, big, xb, yb);
    QCOMPARE(xb.data(), xp);
    QCOMPARE(yb.data(), yp);
    QCOMPARE(idOf(xb, 1), 99);
  }

  void gatherLargeBatchInParallel() {
    // Big enough rows to take the parallel path.
    Dataset d;
    d.x = Tensor(Shape{64, 32, 32, 3});
    for (size_t i = 0; i < d.x.size(); ++i) d.x[i] = float(i % 977);
    d.labels.assign(64, 0);
    d.numClasses = 1;
    std::vector<int> idx(64);
    for (int i = 0; i < 64; ++i) idx[size_t(i)] = 63 - i;
    Tensor xb;
    std::vector<int> yb;
    gatherBatch(d, idx, xb, yb);
    const size_t row = 32 * 32 * 3;
    for (size_t i = 0; i < 64; ++i)
      QVERIFY(std::equal(xb.data() + i * row, xb.data() + (i + 1) * row, d.x.data() + (63 - i) * row));
  }

  void gatherTargets_() {
    Dataset d = makeData(5);
    Tensor y(Shape{5, 2});
    for (size_t i = 0; i < 10; ++i) y[i] = float(i) * 0.5f;
    QVERIFY(assignTargets(d, y, false, TargetKind::Float, "t").ok());
    QVERIFY(d.labels.empty());
    QCOMPARE(d.numClasses, 0);
    Tensor xb, yb;
    std::vector<int> lb;
    const std::vector<int> idx = {4, 1};
    gatherBatch(d, idx, xb, lb);
    QVERIFY(lb.empty());
    gatherTargets(d, idx, yb);
    QCOMPARE(yb.shape(), (Shape{2, 2}));
    QCOMPARE(yb[0], 4.0f);
    QCOMPARE(yb[1], 4.5f);
    QCOMPARE(yb[2], 1.0f);
    QCOMPARE(yb[3], 1.5f);
  }

  void assignTargetsRules() {
    Dataset d = makeData(4);
    Tensor y(Shape{4});
    y[0] = 0; y[1] = 2; y[2] = 5; y[3] = 1;
    QVERIFY(assignTargets(d, y, true, TargetKind::Auto, "t").ok());
    QCOMPARE(d.labels, (std::vector<int>{0, 2, 5, 1}));
    QCOMPARE(d.numClasses, 6);
    // Float dtype in Auto -> targets (N, 1).
    QVERIFY(assignTargets(d, y, false, TargetKind::Auto, "t").ok());
    QVERIFY(d.labels.empty());
    QCOMPARE(d.targets.shape(), (Shape{4, 1}));
    // One-hot float rows -> targets with numClasses = k.
    Tensor oh(Shape{4, 3}, 0.0f);
    for (int i = 0; i < 4; ++i) oh[size_t(i * 3 + i % 3)] = 1.0f;
    QVERIFY(assignTargets(d, oh, false, TargetKind::Auto, "t").ok());
    QCOMPARE(d.numClasses, 3);
    // Non-integral class labels are rejected with the index named.
    y[2] = 1.5f;
    auto s = assignTargets(d, y, false, TargetKind::ClassIndex, "labels.npy");
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.find("labels.npy: label 2") != std::string::npos, s.error().message.c_str());
    // Count mismatch.
    Tensor y3(Shape{3});
    s = assignTargets(d, y3, true, TargetKind::Auto, "y.npy");
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.find("x has 4 samples but y has 3") != std::string::npos, s.error().message.c_str());
  }

  void normalization() {
    Tensor x(Shape{2, 1, 1, 2});
    x[0] = 0; x[1] = 255; x[2] = 51; x[3] = 102;
    Tensor a = x;
    QVERIFY(applyNormalization(a, Normalization::scale01(), "t").ok());
    QCOMPARE(a[1], 1.0f);
    QVERIFY(a[2] == 51.0f / 255.0f);  // exactly x / 255, not x * (1/255)
    Tensor b = x;
    QVERIFY(applyNormalization(b, Normalization::meanStd({10.0f, 100.0f}, {2.0f, 4.0f}), "t").ok());
    QCOMPARE(b[0], -5.0f);
    QCOMPARE(b[1], 38.75f);
    QCOMPARE(b[2], 20.5f);
    QCOMPARE(b[3], 0.5f);
    Tensor c = x;
    auto bad = applyNormalization(c, Normalization::meanStd({1, 2, 3}, {1}), "imgs");
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().message.find("2 channels") != std::string::npos);
    QVERIFY(!applyNormalization(c, Normalization::meanStd({0}, {0}), "imgs").ok());

    auto ms = computeMeanStd(x, true);
    QVERIFY(ms.ok());
    QCOMPARE(ms->mean[0], 25.5f);
    QCOMPARE(ms->std[0], 25.5f);
    QCOMPARE(ms->mean[1], 178.5f);
    QCOMPARE(ms->std[1], 76.5f);
    QVERIFY(applyNormalization(x, *ms, "t").ok());
    QCOMPARE(x[0], -1.0f);
    QCOMPARE(x[3], -1.0f);
    QCOMPARE(x[1], 1.0f);
    // A constant channel gets std 1 (no division by zero).
    Tensor k(Shape{3, 1}, 7.0f);
    auto mk = computeMeanStd(k);
    QVERIFY(mk.ok());
    QCOMPARE(mk->std[0], 1.0f);
    QVERIFY(!computeMeanStd(Tensor()).ok());
  }

  void resizeIdentityAndDownsample() {
    // 4x4 one channel: downsampling by 2 with pixel-centre sampling averages 2x2 blocks.
    std::vector<float> src(16);
    for (int i = 0; i < 16; ++i) src[size_t(i)] = float(i * i);
    std::vector<float> same(16), half(4);
    resizeBilinear(src.data(), 4, 4, 1, same.data(), 4, 4);
    QCOMPARE(same, src);
    resizeBilinear(src.data(), 4, 4, 1, half.data(), 2, 2);
    const auto block = [&](int r, int c) {
      return (src[size_t(r * 4 + c)] + src[size_t(r * 4 + c + 1)] + src[size_t((r + 1) * 4 + c)] +
              src[size_t((r + 1) * 4 + c + 1)]) / 4.0f;
    };
    QCOMPARE(half[0], block(0, 0));
    QCOMPARE(half[1], block(0, 2));
    QCOMPARE(half[2], block(2, 0));
    QCOMPARE(half[3], block(2, 2));
  }

  void resizeUpsampleKnownValues() {
    // 1x2 two channels -> 1x4: source x = (j + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25,
    // clamped to 0, 0.25, 0.75, 1.
    const std::vector<float> src = {0, 10, 8, 30};
    std::vector<float> dst(8);
    resizeBilinear(src.data(), 1, 2, 2, dst.data(), 1, 4);
    const std::vector<float> want = {0, 10, 2, 15, 6, 25, 8, 30};
    QCOMPARE(dst, want);
  }
};

QTEST_APPLESS_MAIN(TestDataDataset)
#include "test_data_dataset.moc"
