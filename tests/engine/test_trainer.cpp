// Trainer: learns a small synthetic problem, is deterministic for a seed, cancels,
// stops on NaN with a message naming the step, and rejects data that does not fit.
#include <QtTest>

#include <atomic>
#include <cmath>

#include "engine/layers/dense.h"
#include "engine/train/trainer.h"

using namespace qat;

namespace {

// Three Gaussian blobs in 2-D, well separated.
Dataset blobs(int n, uint64_t seed) {
  Dataset d;
  d.x = Tensor(Shape{n, 2});
  Rng rng(seed);
  const float cx[3] = {-2, 2, 0}, cy[3] = {-2, -2, 2.5f};
  for (int i = 0; i < n; ++i) {
    const int c = i % 3;
    d.x[size_t(i) * 2] = cx[c] + rng.normal(0, 0.5f);
    d.x[size_t(i) * 2 + 1] = cy[c] + rng.normal(0, 0.5f);
    d.labels.push_back(c);
  }
  d.numClasses = 3;
  d.source = "blobs";
  return d;
}

Model mlp(uint64_t seed) {
  Model m;
  m.name = "blob-mlp";
  int x = m.addInput("input", Shape{2});
  x = m.add<Dense>({x}, "hidden", DenseOptions{16, true, ActivationFn::Relu});
  x = m.add<Dense>({x}, "logits", DenseOptions{3, true, ActivationFn::Linear});
  m.setOutputs({x});
  QAT_ASSERT(m.build().ok());
  Rng rng(seed);
  m.initialize(rng);
  return m;
}

TrainConfig config(int epochs) {
  TrainConfig c;
  c.epochs = epochs;
  c.batchSize = 32;
  c.loss = {LossKind::SparseCategoricalCrossentropy, true};
  c.optimizer.learningRate = 0.01f;
  return c;
}

struct Recorder : TrainObserver {
  int batches = 0, epochs = 0;
  double firstLoss = -1;
  std::atomic<bool>* cancelAt = nullptr;
  int cancelAfter = -1;
  void onBatch(const BatchEvent& e) override {
    if (firstLoss < 0) firstLoss = e.loss;
    ++batches;
    if (cancelAt && batches == cancelAfter) cancelAt->store(true);
  }
  void onEpoch(const EpochEvent&) override { ++epochs; }
};

}  // namespace

class TestTrainer : public QObject {
  Q_OBJECT
 private slots:
  void learnsBlobs() {
    Model m = mlp(1);
    Dataset train = blobs(600, 7), test = blobs(300, 8);
    Trainer t(m, config(15));
    Recorder rec;
    auto r = t.fit(train, &test, &rec);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
    QCOMPARE(rec.epochs, 15);
    QCOMPARE(rec.batches, 15 * 19);  // ceil(600 / 32) = 19
    QVERIFY(r->epochs.back().loss < 0.5 * rec.firstLoss);
    QVERIFY(r->epochs.back().validation.has_value());
    auto e = t.evaluate(test);
    QVERIFY(e.ok());
    QVERIFY2(e->accuracy > 0.95, qPrintable(QString::number(e->accuracy)));
    QCOMPARE(e->samples, size_t(300));
  }
  void sameSeedSameWeights() {
    Model a = mlp(3), b = mlp(3);
    Dataset train = blobs(200, 9);
    TrainConfig c = config(2);
    c.seed = 99;
    QVERIFY(Trainer(a, c).fit(train).ok());
    QVERIFY(Trainer(b, c).fit(train).ok());
    auto pa = a.params(), pb = b.params();
    for (size_t k = 0; k < pa.size(); ++k)
      for (size_t i = 0; i < pa[k]->value.size(); ++i) QCOMPARE(pa[k]->value[i], pb[k]->value[i]);
    // A different seed shuffles differently and ends elsewhere.
    Model d = mlp(3);
    c.seed = 100;
    QVERIFY(Trainer(d, c).fit(train).ok());
    QVERIFY(d.params()[0]->value[0] != a.params()[0]->value[0]);
  }
  void cancelStopsWithinABatch() {
    Model m = mlp(1);
    Dataset train = blobs(600, 7);
    std::atomic<bool> cancel{false};
    Recorder rec;
    rec.cancelAt = &cancel;
    rec.cancelAfter = 5;
    auto r = Trainer(m, config(10)).fit(train, nullptr, &rec, &cancel);
    QVERIFY(r.ok());
    QVERIFY(r->cancelled);
    QCOMPARE(r->steps, 5L);
    // The model is still usable.
    auto e = Trainer(m, config(1)).evaluate(train);
    QVERIFY(e.ok() && std::isfinite(e->loss));
  }
  void nanLossNamesTheStep() {
    Model m = mlp(1);
    Dataset train = blobs(96, 7);
    train.x[40] = std::nanf("");  // sample 20
    TrainConfig c = config(1);
    c.shuffle = false;  // sample 20 is in batch 1 (samples 0..31)
    auto r = Trainer(m, c).fit(train);
    QVERIFY(!r.ok());
    const QString msg = QString::fromStdString(r.error().message);
    QVERIFY2(msg.contains(QStringLiteral("step 1")) && msg.contains(QStringLiteral("NaN")), qPrintable(msg));
  }
  void validationSplitHoldsOutTheTail() {
    Model m = mlp(1);
    Dataset train = blobs(100, 7);
    TrainConfig c = config(1);
    c.validationSplit = 0.2f;
    Recorder rec;
    auto r = Trainer(m, c).fit(train, nullptr, &rec);
    QVERIFY(r.ok());
    QCOMPARE(rec.batches, 3);  // 80 samples / 32
    QCOMPARE(r->epochs[0].validation->samples, size_t(20));
  }
  void learnsFromFloatTargets() {
    // Binary problem given as float targets (N, 1): blob 0 vs the others.
    Dataset d = blobs(300, 4);
    d.targets = Tensor(Shape{300, 1});
    for (size_t i = 0; i < d.labels.size(); ++i) d.targets[i] = d.labels[i] == 0 ? 1.0f : 0.0f;
    d.labels.clear();
    d.numClasses = 0;
    Model m;
    int x = m.addInput("input", Shape{2});
    x = m.add<Dense>({x}, "hidden", DenseOptions{8, true, ActivationFn::Relu});
    x = m.add<Dense>({x}, "logit", DenseOptions{1, true, ActivationFn::Linear});
    m.setOutputs({x});
    QVERIFY(m.build().ok());
    Rng rng(2);
    m.initialize(rng);
    TrainConfig c = config(20);
    c.loss = {LossKind::BinaryCrossentropy, true};
    Trainer t(m, c);
    auto before = t.evaluate(d);
    QVERIFY2(before.ok(), before.ok() ? "" : before.error().message.c_str());
    QVERIFY(t.fit(d).ok());
    auto after = t.evaluate(d);
    QVERIFY(after.ok());
    QVERIFY2(after->loss < 0.3 * before->loss, qPrintable(QStringLiteral("%1 -> %2").arg(before->loss).arg(after->loss)));
  }
  void rejectsMismatchedData() {
    Model m = mlp(1);
    Dataset bad;
    bad.x = Tensor(Shape{4, 3});
    bad.labels = {0, 1, 2, 0};
    bad.source = "wrong.npy";
    auto r = Trainer(m, config(1)).fit(bad);
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("wrong.npy") != std::string::npos);
    QVERIFY(r.error().message.find("(3,)") != std::string::npos);
    Dataset badLabels = blobs(10, 1);
    badLabels.labels[3] = 7;
    r = Trainer(m, config(1)).fit(badLabels);
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("label 7") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestTrainer)
#include "test_trainer.moc"
