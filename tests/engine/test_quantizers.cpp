// Quantizer kinds: range update rules (hand-computed), mode flags, state Params, spec JSON
// and its validation, the registry, FixedRangeClip and FakeQuantLayer. The learned kinds
// (LearnedRange, LSQ) are tested in test_learned_quantizers.cpp.
#include <QtTest>

#include <cmath>

#include "common/gradcheck.h"
#include "engine/quant/fake_quant_layer.h"
#include "engine/quant/quantizer.h"

using namespace qat;
using namespace qat::quant;

namespace {

QuantizerSpec spec(const std::string& type, bool perAxis = false, bool symmetric = false, bool narrow = false) {
  QuantizerSpec s;
  s.type = type;
  s.perAxis = perAxis;
  s.symmetric = symmetric;
  s.narrowRange = narrow;
  return s;
}

std::unique_ptr<Quantizer> make(const QuantizerSpec& s, int channels = 1, const std::string& prefix = "output") {
  auto q = makeQuantizer(s);
  if (!q.ok()) qFatal("%s", q.error().message.c_str());
  auto st = q.value()->build(channels, prefix);
  if (!st.ok()) qFatal("%s", st.error().message.c_str());
  return std::move(q.value());
}

Tensor tensor(Shape shape, std::vector<float> v) {
  Tensor t(std::move(shape));
  QAT_ASSERT(t.size() == v.size());
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

const RunContext kTrain{true}, kEval{false};
RunContext calib() {
  RunContext c;
  c.calibrating = true;
  return c;
}

float stateValue(Quantizer& q, const std::string& name, size_t i = 0) {
  for (Param* p : q.state())
    if (p->name == name) return p->value[i];
  qFatal("no state %s", name.c_str());
}

// Feeds one batch with range [lo, hi] through a training forward.
void feed(Quantizer& q, float lo, float hi, const RunContext& ctx = kTrain) {
  Tensor x = tensor(Shape{4}, {lo, hi, 0.5f * (lo + hi), lo}), y;
  q.forward(x, y, ctx);
}

}  // namespace

class TestQuantizers : public QObject {
  Q_OBJECT
 private slots:
  // ------------------------------------------------------------ range update rules
  void lastValueTakesEachBatchRange() {
    auto q = make(spec("LastValue"));
    feed(*q, -1.f, 2.f);
    QCOMPARE(stateValue(*q, "output_min"), -1.f);
    QCOMPARE(stateValue(*q, "output_max"), 2.f);
    feed(*q, -0.5f, 0.25f);
    QCOMPARE(stateValue(*q, "output_min"), -0.5f);
    QCOMPARE(stateValue(*q, "output_max"), 0.25f);
    feed(*q, -9.f, 9.f, kEval);  // evaluation never updates
    QCOMPARE(stateValue(*q, "output_max"), 0.25f);
    const auto g = q->grids();
    QCOMPARE(g.size(), size_t(1));
    QCOMPARE(g[0].zeroPoint, 170);  // 0.5/(0.75/255) = 170
  }

  void lastValuePerAxisSymmetric() {
    // (2, 3) kernel, per-axis over the last axis: channels (−1, 3), (0.5, 2), (−4, 1)
    auto q = make(spec("LastValue", true, true, true), 3, "kernel");
    Tensor w = tensor(Shape{2, 3}, {-1.f, 0.5f, -4.f, 3.f, 2.f, 1.f}), y;
    q->forward(w, y, kTrain);
    QCOMPARE(q->channels(), 3);
    const float want[3] = {3.f, 2.f, 4.f};
    for (size_t c = 0; c < 3; ++c) {
      QCOMPARE(stateValue(*q, "kernel_min", c), -want[c]);
      QCOMPARE(stateValue(*q, "kernel_max", c), want[c]);
    }
    const auto g = q->grids();
    QCOMPARE(g.size(), size_t(3));
    for (size_t c = 0; c < 3; ++c) {
      QCOMPARE(g[c].zeroPoint, 128);  // int8 = q − 128 in [−127, 127]
      QCOMPARE(g[c].qmin, 1);
      QVERIFY(std::abs(g[c].scale - want[c] / 127) < 1e-7f);
    }
    // Each channel's extremes are on its own grid: ±max.
    QVERIFY(std::abs(y[2] + 4.f) < 1e-6f);
    QVERIFY(std::abs(y[3] - 3.f) < 1e-6f);
    QVERIFY(std::abs(y[1] - 0.5f) < 2.f / 127 / 2 + 1e-7f);
  }

  void symmetricNotNarrowHasInt8ZeroPointZero() {
    auto q = make(spec("LastValue", false, true, false));
    feed(*q, -0.3f, 1.7f);
    const Grid g = q->grids()[0];
    QCOMPARE(g.zeroPoint, 128);
    QVERIFY(std::abs(g.scale - 1.7f / 127) < 1e-7f);  // max dominant: [−1.7·128/127, 1.7]
    QVERIFY(std::abs(g.nudgedMax - 1.7f) < 1e-6f);
  }

  void movingAverageEmaAfterThreeBatches() {
    auto s = spec("MovingAverage");
    s.emaDecay = 0.5f;
    auto q = make(s);
    QCOMPARE(stateValue(*q, "output_initialized"), 0.f);
    feed(*q, -1.f, 2.f);  // first batch sets the range
    QCOMPARE(stateValue(*q, "output_initialized"), 1.f);
    QCOMPARE(stateValue(*q, "output_min"), -1.f);
    QCOMPARE(stateValue(*q, "output_max"), 2.f);
    feed(*q, -3.f, 4.f);  // m ← m − (m − b)·0.5: −1 − (−1 + 3)/2 = −2;  2 − (2 − 4)/2 = 3
    QCOMPARE(stateValue(*q, "output_min"), -2.f);
    QCOMPARE(stateValue(*q, "output_max"), 3.f);
    feed(*q, 1.f, 1.f);  // batch [1, 1]: −2 − (−2 − 1)/2 = −0.5;  3 − (3 − 1)/2 = 2
    QCOMPARE(stateValue(*q, "output_min"), -0.5f);
    QCOMPARE(stateValue(*q, "output_max"), 2.f);
  }

  void movingAverageTfmotInitStartsAtSix() {
    auto s = spec("MovingAverage");
    s.tfmotInit = true;  // decay 0.999: −6 − (−6 + 1)·0.001 = −5.995;  6 − (6 − 2)·0.001 = 5.996
    auto q = make(s);
    QCOMPARE(stateValue(*q, "output_min"), -6.f);
    QCOMPARE(stateValue(*q, "output_initialized"), 1.f);
    feed(*q, -1.f, 2.f);
    QVERIFY(std::abs(stateValue(*q, "output_min") + 5.995f) < 1e-5f);
    QVERIFY(std::abs(stateValue(*q, "output_max") - 5.996f) < 1e-5f);
  }

  void initRangeIsUsedBeforeUpdates() {
    auto s = spec("MovingAverage");
    s.emaDecay = 0.5f;
    s.initMin = -4.f;
    s.initMax = 4.f;
    auto q = make(s);
    QCOMPARE(stateValue(*q, "output_initialized"), 1.f);
    feed(*q, 0.f, 2.f);  // blends with the given range: −2, 3
    QCOMPARE(stateValue(*q, "output_min"), -2.f);
    QCOMPARE(stateValue(*q, "output_max"), 3.f);
  }

  void allValuesKeepsEverything_data() {
    QTest::addColumn<bool>("tfmotInit");
    QTest::addRow("first batch sets") << false;
    QTest::addRow("tfmot 0/0 start") << true;
  }
  void allValuesKeepsEverything() {
    QFETCH(bool, tfmotInit);
    auto s = spec("AllValues");
    s.tfmotInit = tfmotInit;
    auto q = make(s);
    QCOMPARE(stateValue(*q, "output_min"), 0.f);
    QCOMPARE(stateValue(*q, "output_max"), 0.f);
    feed(*q, 0.5f, 2.f);
    QCOMPARE(stateValue(*q, "output_min"), tfmotInit ? 0.f : 0.5f);
    QCOMPARE(stateValue(*q, "output_max"), 2.f);
    feed(*q, -1.f, 1.f);
    QCOMPARE(stateValue(*q, "output_min"), -1.f);
    QCOMPARE(stateValue(*q, "output_max"), 2.f);
    feed(*q, 0.7f, 1.5f);
    QCOMPARE(stateValue(*q, "output_min"), -1.f);
    QCOMPARE(stateValue(*q, "output_max"), 2.f);
  }

  void fixedNeverUpdates() {
    auto s = spec("Fixed");
    s.initMin = -1.f;
    s.initMax = 2.f;
    auto q = make(s);
    feed(*q, -10.f, 10.f);
    feed(*q, -10.f, 10.f, calib());
    QCOMPARE(stateValue(*q, "output_min"), -1.f);
    QCOMPARE(stateValue(*q, "output_max"), 2.f);
    QCOMPARE(q->grids()[0].zeroPoint, 85);
    auto bad = makeQuantizer(spec("Fixed"));
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().message.find("init_min") != std::string::npos);
  }

  void uninitialisedEvaluationUsesDefaultRange() {
    // LastValue/MovingAverage: ±6 until the first update; AllValues: 0/0 → all zeros.
    Tensor x = tensor(Shape{3}, {-7.f, 0.1f, 3.f}), y;
    auto lv = make(spec("LastValue"));
    lv->forward(x, y, kEval);
    QVERIFY(std::abs(y[0] - lv->grids()[0].nudgedMin) < 1e-6f);
    QVERIFY(std::abs(lv->grids()[0].nudgedMin + 6.f) < 0.03f);
    QVERIFY(std::abs(y[2] - 3.f) < 12.f / 255);
    auto av = make(spec("AllValues"));
    av->forward(x, y, kEval);
    for (size_t i = 0; i < 3; ++i) QCOMPARE(y[i], 0.f);
  }

  void modeFlags_data() {
    QTest::addColumn<bool>("training");
    QTest::addColumn<bool>("calibrating");
    QTest::addColumn<bool>("fakeQuant");
    QTest::addRow("eval") << false << false << true;
    QTest::addRow("qat train") << true << false << true;
    QTest::addRow("calibrate") << false << true << true;
    QTest::addRow("float twin eval") << false << false << false;
    QTest::addRow("float calibrate") << false << true << false;
    QTest::addRow("float train") << true << false << false;
  }
  void modeFlags() {
    QFETCH(bool, training);
    QFETCH(bool, calibrating);
    QFETCH(bool, fakeQuant);
    auto q = make(spec("LastValue"));
    feed(*q, -1.f, 1.f);  // range [−1, 1], grid step 2/255
    RunContext ctx;
    ctx.training = training;
    ctx.calibrating = calibrating;
    ctx.fakeQuant = fakeQuant;
    Tensor x = tensor(Shape{2, 2}, {-2.f, 0.3f, 1.5f, 0.01f}), y;
    q->forward(x, y, ctx);
    QCOMPARE(y.shape(), x.shape());
    const bool updates = training || calibrating;
    QCOMPARE(stateValue(*q, "output_min"), updates ? -2.f : -1.f);
    QCOMPARE(stateValue(*q, "output_max"), updates ? 1.5f : 1.f);
    if (fakeQuant) {
      const Grid g = q->grids()[0];
      QCOMPARE(y[0], g.nudgedMin);
      QVERIFY(y[1] != 0.3f && std::abs(y[1] - 0.3f) <= g.scale / 2 + 1e-6f);
    } else {
      for (size_t i = 0; i < 4; ++i) QCOMPARE(y[i], x[i]);
    }
    Tensor dy = tensor(Shape{2, 2}, {1.f, 2.f, 3.f, 4.f}), dx;
    q->backward(x, dy, dx, ctx);
    QCOMPARE(dx.shape(), x.shape());
    // Straight-through inside the (possibly just updated) nudged range; dx = dy unquantized.
    const Grid g = q->grids()[0];
    for (size_t i = 0; i < 4; ++i) {
      const bool inside = x[i] >= g.nudgedMin && x[i] <= g.nudgedMax;
      QCOMPARE(dx[i], !fakeQuant || inside ? dy[i] : 0.f);
    }
    if (fakeQuant && !updates) QCOMPARE(dx[0], 0.f);  // −2 is outside [−1, 1]
    QCOMPARE(dx[1], 2.f);
  }

  void stateParamsAndBuild() {
    auto q = make(spec("MovingAverage", true), 4, "kernel");  // per-axis: 4 channels
    const auto st = q->state();
    QCOMPARE(st.size(), size_t(3));
    QCOMPARE(st[0]->name, std::string("kernel_min"));
    QCOMPARE(st[1]->name, std::string("kernel_max"));
    QCOMPARE(st[2]->name, std::string("kernel_initialized"));
    QCOMPARE(st[0]->value.shape(), (Shape{4}));
    QCOMPARE(st[2]->value.shape(), (Shape{1}));
    for (const Param* p : st) {
      QVERIFY(!p->trainable);
      QVERIFY(p->grad.empty());
    }
    // Same size again keeps the state; a new size resets it; per-tensor accepts any count.
    st[0]->value[2] = -3.f;
    QVERIFY(q->build(4, "kernel").ok());
    QCOMPARE(q->state()[0]->value[2], -3.f);
    QVERIFY(q->build(5, "kernel").ok());
    QCOMPARE(q->channels(), 5);
    QCOMPARE(q->state()[0]->value[2], -6.f);
    auto t = make(spec("MovingAverage"), 17);
    QCOMPARE(t->channels(), 1);
    auto bad = q->build(0, "kernel");
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().message.find("channels") != std::string::npos);
    // A restored "initialized" flag makes the next batch blend instead of reset.
    auto m = make(spec("MovingAverage"));
    m->state()[2]->value[0] = 1.f;  // as loaded from a checkpoint, range ±6
    feed(*m, 0.f, 1.f);
    QVERIFY(stateValue(*m, "output_min") < -5.9f);
  }

  // ------------------------------------------------------------ spec JSON
  void jsonRoundTrip_data() {
    QTest::addColumn<QString>("json");
    QTest::addRow("defaults") << QStringLiteral("{}");
    QTest::addRow("weights") << QStringLiteral(
        R"({"type":"LastValue","bits":8,"per_axis":true,"symmetric":true,"narrow_range":true})");
    QTest::addRow("fixed") << QStringLiteral(R"({"type":"Fixed","bits":4,"init_min":-1.5,"init_max":2.25})");
    QTest::addRow("ema") << QStringLiteral(R"({"type":"MovingAverage","ema_decay":0.99,"tfmot_init":true,"pow2_scale":true})");
    QTest::addRow("extra") << QStringLiteral(R"({"type":"FixedRangeClip","min":-0.5,"max":0.75,"note":"x"})");
  }
  void jsonRoundTrip() {
    QFETCH(QString, json);
    auto s = quantizerSpecFromJson(nlohmann::json::parse(json.toStdString()));
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().message.c_str());
    const auto j = toJson(s.value());
    auto back = quantizerSpecFromJson(j);
    QVERIFY(back.ok());
    QVERIFY(back.value() == s.value());
    // Every key given comes back with the same value.
    const auto in = nlohmann::json::parse(json.toStdString());
    for (auto it = in.begin(); it != in.end(); ++it) {
      QVERIFY2(j.contains(it.key()), it.key().c_str());
      if (it.value().is_number_float())
        QCOMPARE(float(j[it.key()].get<double>()), float(it.value().get<double>()));
      else
        QVERIFY2(j[it.key()] == it.value(), it.key().c_str());
    }
  }
  void jsonFields() {
    auto s = quantizerSpecFromJson(nlohmann::json::parse(
        R"({"type":"LastValue","bits":4,"per_axis":true,"symmetric":true,"narrow_range":true,"init_min":-1,"init_max":1,"k":3})"));
    QVERIFY(s.ok());
    QCOMPARE(s->type, std::string("LastValue"));
    QCOMPARE(s->bits, 4);
    QVERIFY(s->perAxis && s->symmetric && s->narrowRange && !s->pow2Scale && !s->tfmotInit);
    QCOMPARE(*s->initMin, -1.f);
    QCOMPARE(*s->initMax, 1.f);
    QCOMPARE(s->extra["k"].get<int>(), 3);
    QCOMPARE(describe(s.value()), std::string("LastValue 4-bit per-axis symmetric narrow [-1, 1] k=3"));
    QCOMPARE(describe(QuantizerSpec{}), std::string("MovingAverage 8-bit per-tensor asymmetric"));
    // The kind rejects the setting it does not know.
    auto q = makeQuantizer(s.value());
    QVERIFY(!q.ok());
    QVERIFY(q.error().message.find("'k'") != std::string::npos);
  }
  void jsonValidationErrors_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("message");
    QTest::addRow("bits low") << R"({"bits":1})" << "bits 1 is outside 2..16";
    QTest::addRow("bits high") << R"({"bits":17})" << "bits 17 is outside 2..16";
    QTest::addRow("bits type") << R"({"bits":"8"})" << "'bits' must be an integer, got \"8\"";
    QTest::addRow("bits float") << R"({"bits":8.5})" << "'bits' must be an integer, got 8.5";
    QTest::addRow("bool") << R"({"per_axis":1})" << "'per_axis' must be true or false, got 1";
    QTest::addRow("symmetric") << R"({"symmetric":"yes"})" << "'symmetric' must be true or false, got \"yes\"";
    QTest::addRow("type") << R"({"type":3})" << "'type' must be a string, got 3";
    QTest::addRow("empty type") << R"({"type":""})" << "type is empty";
    QTest::addRow("decay") << R"({"ema_decay":1.5})" << "ema_decay 1.5 is outside [0, 1)";
    QTest::addRow("decay type") << R"({"ema_decay":"x"})" << "'ema_decay' must be a number, got \"x\"";
    QTest::addRow("half range") << R"({"init_min":-1})" << "init_min is set but init_max is not";
    QTest::addRow("half range max") << R"({"init_max":1})" << "init_max is set but init_min is not";
    QTest::addRow("inverted") << R"({"init_min":2,"init_max":1})" << "init_min 2 is greater than init_max 1";
    QTest::addRow("not object") << R"([1,2])" << "must be a JSON object, got [1,2]";
  }
  void jsonValidationErrors() {
    QFETCH(QString, json);
    QFETCH(QString, message);
    auto s = quantizerSpecFromJson(nlohmann::json::parse(json.toStdString()));
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.find(message.toStdString()) != std::string::npos, s.error().message.c_str());
  }

  // ------------------------------------------------------------ registry
  void registryUnknownTypeListsNames() {
    auto q = makeQuantizer(spec("Bogus"));
    QVERIFY(!q.ok());
    const std::string& m = q.error().message;
    QVERIFY(m.find("'Bogus'") != std::string::npos);
    for (const char* k : {"LastValue", "MovingAverage", "AllValues", "Fixed", "FixedRangeClip", "LearnedRange", "LSQ"})
      QVERIFY2(m.find(k) != std::string::npos, k);
    const auto types = quantizerTypes();
    QVERIFY(std::find(types.begin(), types.end(), "MovingAverage") != types.end());
    QVERIFY(!quantizerDescription("AllValues").empty());
    QVERIFY(quantizerDescription("Bogus").empty());
  }
  void registryCustomKind() {
    // A custom kind: y = 2x (a stand-in for a plug-in), created by name from a config.
    struct Doubler : Quantizer {
      using Quantizer::Quantizer;
      std::unique_ptr<Quantizer> clone() const override { return std::make_unique<Doubler>(*this); }
      Status build(int c, const std::string&) override {
        channels_ = c;
        return {};
      }
      void forward(const Tensor& x, Tensor& y, const RunContext&) override {
        y.resize(x.shape());
        for (size_t i = 0; i < x.size(); ++i) y[i] = 2 * x[i];
      }
      void backward(const Tensor& x, const Tensor& dy, Tensor& dx, const RunContext&) override {
        dx.resize(x.shape());
        for (size_t i = 0; i < x.size(); ++i) dx[i] = 2 * dy[i];
      }
      std::vector<Grid> grids() const override { return {}; }
    };
    registerQuantizer(
        "TestDoubler",
        [](const QuantizerSpec& s) -> Expected<std::unique_ptr<Quantizer>> {
          return std::unique_ptr<Quantizer>(std::make_unique<Doubler>(s));
        },
        "doubles its input");
    auto s = quantizerSpecFromJson(nlohmann::json::parse(R"({"type":"TestDoubler","gain":2})"));
    QVERIFY(s.ok());
    auto q = makeQuantizer(s.value());
    QVERIFY(q.ok());
    QCOMPARE(q.value()->spec().extra["gain"].get<int>(), 2);
    QVERIFY(q.value()->build(3, "output").ok());
    Tensor x = tensor(Shape{3}, {1.f, -2.f, 0.5f}), y;
    q.value()->forward(x, y, kEval);
    QCOMPARE(y[1], -4.f);
    QCOMPARE(quantizerDescription("TestDoubler"), std::string("doubles its input"));
    auto types = quantizerTypes();
    QVERIFY(std::find(types.begin(), types.end(), "TestDoubler") != types.end());
  }

  // ------------------------------------------------------------ FixedRangeClip
  void fixedRangeClip_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<float>("lo");
    QTest::addColumn<float>("hi");
    QTest::addRow("default") << R"({"type":"FixedRangeClip"})" << -1.f << 1.f;
    QTest::addRow("given") << R"({"type":"FixedRangeClip","min":-0.5,"max":3})" << -0.5f << 3.f;
  }
  void fixedRangeClip() {
    QFETCH(QString, json);
    QFETCH(float, lo);
    QFETCH(float, hi);
    auto s = quantizerSpecFromJson(nlohmann::json::parse(json.toStdString()));
    QVERIFY(s.ok());
    auto q = make(s.value(), 2);
    QVERIFY(q->grids().empty());
    QVERIFY(q->state().empty());
    Tensor x = tensor(Shape{6}, {-5.f, lo, 0.3f, hi, 7.f, 0.123f}), y, dx;
    q->forward(x, y, kTrain);
    const float want[6] = {lo, lo, 0.3f, hi, hi, 0.123f};  // no grid: inside values unchanged
    for (size_t i = 0; i < 6; ++i) QCOMPARE(y[i], want[i]);
    Tensor dy(Shape{6}, 2.f);
    q->backward(x, dy, dx, kTrain);
    const float g[6] = {0.f, 2.f, 2.f, 2.f, 0.f, 2.f};
    for (size_t i = 0; i < 6; ++i) QCOMPARE(dx[i], g[i]);
  }
  void fixedRangeClipErrors() {
    auto bad = [](const char* json) {
      auto s = quantizerSpecFromJson(nlohmann::json::parse(json));
      QAT_ASSERT(s.ok());
      auto q = makeQuantizer(s.value());
      return q.ok() ? std::string() : q.error().message;
    };
    QVERIFY(bad(R"({"type":"FixedRangeClip","min":2,"max":1})").find("min 2 must be below max 1") !=
            std::string::npos);
    QVERIFY(bad(R"({"type":"FixedRangeClip","min":"a"})").find("'min' must be a finite number") != std::string::npos);
    QVERIFY(bad(R"({"type":"FixedRangeClip","mn":0})").find("'mn'") != std::string::npos);
  }

  // ------------------------------------------------------------ FakeQuantLayer
  void fakeQuantLayerBuildForwardBackward() {
    FakeQuantLayer l("fq", make(spec("MovingAverage", true)), "output");
    auto shape = l.build({Shape{2, 3}});
    QVERIFY(shape.ok());
    QCOMPARE(shape.value(), (Shape{2, 3}));
    QCOMPARE(l.quantizer().channels(), 3);
    QCOMPARE(l.params().size(), size_t(3));
    QCOMPARE(l.params()[0]->name, std::string("output_min"));
    QCOMPARE(l.op(), OpType::FakeQuant);
    Rng rng(1);
    Tensor x(Shape{4, 2, 3});
    test::fillUniform(x, rng, -2.f, 2.f);
    Tensor out;
    const Tensor* in[1] = {&x};
    l.forward(in, out, kTrain);
    QCOMPARE(out.shape(), x.shape());
    const auto g = l.quantizer().grids();
    for (size_t i = 0; i < x.size(); ++i) {
      std::vector<float> one{x[i]};
      float ref = 0;
      fakeQuantForward(one.data(), &ref, 1, std::span(&g[i % 3], 1));
      QCOMPARE(out[i], ref);
    }
    // Batch statistics: the training batch set each channel's range.
    QCOMPARE(l.params()[2]->value[0], 1.f);
    Tensor dout(x.shape(), 1.f), din(x.shape());
    Tensor* dptr[1] = {&din};
    l.backward(in, out, dout, dptr, kTrain);
    for (size_t i = 0; i < x.size(); ++i) {
      const bool inside = x[i] >= g[i % 3].nudgedMin && x[i] <= g[i % 3].nudgedMax;
      QCOMPARE(din[i], inside ? 1.f : 0.f);
    }
    // Errors name the layer.
    auto bad = l.build({Shape{2}, Shape{2}});
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().message.find("'fq'") != std::string::npos);
  }

  void fakeQuantLayerCloneIsIndependent() {
    FakeQuantLayer l("fq", make(spec("LastValue")), "input");
    QVERIFY(l.build({Shape{3}}).ok());
    Tensor x = tensor(Shape{1, 3}, {-1.f, 0.f, 2.f}), out;
    const Tensor* in[1] = {&x};
    l.forward(in, out, kTrain);
    auto c = l.clone();
    auto* cl = dynamic_cast<FakeQuantLayer*>(c.get());
    QVERIFY(cl);
    QCOMPARE(cl->role(), std::string("input"));
    QVERIFY(&cl->quantizer() != &l.quantizer());
    QVERIFY(cl->params()[0] != l.params()[0]);
    QCOMPARE(cl->params()[1]->value[0], 2.f);  // copied state
    Tensor x2 = tensor(Shape{1, 3}, {-5.f, 0.f, 5.f});
    const Tensor* in2[1] = {&x2};
    cl->forward(in2, out, kTrain);
    QCOMPARE(cl->params()[1]->value[0], 5.f);
    QCOMPARE(l.params()[1]->value[0], 2.f);  // the original kept its range
    QCOMPARE(l.params()[1]->name, std::string("input_max"));
  }
};

QTEST_APPLESS_MAIN(TestQuantizers)
#include "test_quantizers.moc"
