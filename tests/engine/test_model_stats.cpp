// Multiply-accumulate counts against hand-computed values.
#include <QtTest>

#include "engine/graph/model_stats.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/conv2d_transpose.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"

using namespace qat;

class TestModelStats : public QObject {
  Q_OBJECT
 private slots:
  void macsPerLayerKind() {
    Model m;
    int x = m.addInput("in", Shape{8, 8, 3});
    Conv2DOptions c;
    c.filters = 4;
    c.padding = Padding::Same;
    x = m.add<Conv2D>({x}, "conv", c);  // 8·8 positions × 3·3·3·4 = 6912
    DepthwiseConv2DOptions d;
    d.strideH = d.strideW = 2;
    d.padding = Padding::Same;
    x = m.add<DepthwiseConv2D>({x}, "dw", d);  // 4·4 positions × 3·3·4·1 = 576
    Conv2DTransposeOptions t;
    t.filters = 2;
    t.kernelH = t.kernelW = 2;
    t.strideH = t.strideW = 2;
    x = m.add<Conv2DTranspose>({x}, "up", t);  // 4·4 input positions × 2·2·2·4 = 512
    x = m.add<Dense>({x}, "dense", DenseOptions{5, true, ActivationFn::Linear});  // 8·8 rows × 2·5 = 640
    m.setOutputs({x});
    QVERIFY(m.build().ok());
    QCOMPARE(m.node(3).shape, (Shape{8, 8, 2}));
    QCOMPARE(forwardMacsPerSample(m), uint64_t(6912 + 576 + 512 + 640));
    QCOMPARE(trainingFlopsPerSample(m), 6.0 * (6912 + 576 + 512 + 640));
  }
};

QTEST_APPLESS_MAIN(TestModelStats)
#include "test_model_stats.moc"
