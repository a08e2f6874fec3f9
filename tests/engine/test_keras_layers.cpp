// Keras layer JSON <-> engine layers: Keras 1 / 2 / 3 spellings, every OpType both ways,
// and the messages for configs and classes that cannot be imported; TFOpLambda records
// of +, -, * read from a Keras 2 graph; training_config parsing; HDF5 string-attribute
// details (chunked lists).
#include <QtTest>

#include <nlohmann/json.hpp>

#include "engine/graph/executor.h"
#include "engine/io/hdf5_util.h"
#include "engine/io/keras_graph.h"
#include "engine/io/keras_layers.h"
#include "engine/io/keras_model.h"
#include "engine/layers/average_pooling2d.h"
#include "engine/layers/batch_normalization.h"
#include "engine/layers/concatenate.h"
#include "engine/layers/conv1d.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/conv2d_transpose.h"
#include "engine/layers/cropping2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/layers/dropout.h"
#include "engine/layers/input_layer.h"
#include "engine/layers/leaky_relu.h"
#include "engine/layers/max_pooling1d.h"
#include "engine/layers/max_pooling2d.h"
#include "engine/layers/permute.h"
#include "engine/layers/prelu.h"
#include "engine/layers/relu.h"
#include "engine/layers/rescaling.h"
#include "engine/layers/reshape.h"
#include "engine/layers/separable_conv2d.h"
#include "engine/layers/up_sampling2d.h"
#include "engine/layers/zero_padding2d.h"

using namespace qat;
using Json = nlohmann::json;

namespace {

std::unique_ptr<Layer> fromKeras(const std::string& cls, const char* config, std::vector<std::string>* warnings = nullptr) {
  const Json cfg = Json::parse(config);
  auto r = layerFromKeras(cls, cfg, cfg.value("name", std::string("layer")), warnings);
  if (!r.ok()) qWarning("%s", r.error().message.c_str());
  return r.ok() ? std::move(r.value()) : nullptr;
}

template <class L>
const L* as(const std::unique_ptr<Layer>& l) {
  return dynamic_cast<const L*>(l.get());
}

}  // namespace

class TestKerasLayers : public QObject {
  Q_OBJECT
 private slots:
  void keras1Spellings() {
    auto conv = fromKeras("Convolution2D", R"({"name": "convolution2d_1", "nb_filter": 24, "nb_row": 5, "nb_col": 3,
        "subsample": [2, 1], "border_mode": "same", "dim_ordering": "tf", "bias": false, "activation": "elu",
        "init": "glorot_uniform", "W_regularizer": null, "trainable": true})");
    QVERIFY(as<Conv2D>(conv));
    const auto& c = as<Conv2D>(conv)->options();
    QCOMPARE(c.filters, 24);
    QCOMPARE(c.kernelH, 5);
    QCOMPARE(c.kernelW, 3);
    QCOMPARE(c.strideH, 2);
    QCOMPARE(c.strideW, 1);
    QCOMPARE(c.padding, Padding::Same);
    QCOMPARE(c.useBias, false);
    QCOMPARE(c.activation, ActivationFn::Elu);

    auto atrous = fromKeras("AtrousConvolution2D", R"({"name": "a", "nb_filter": 2, "nb_row": 3, "nb_col": 3,
        "atrous_rate": [2, 2], "border_mode": "valid"})");
    QVERIFY(as<Conv2D>(atrous));
    QCOMPARE(as<Conv2D>(atrous)->options().dilationH, 2);

    auto dense = fromKeras("Dense", R"({"name": "dense_1", "output_dim": 100, "input_dim": 1152, "bias": true,
        "activation": "relu", "W_constraint": null})");
    QVERIFY(as<Dense>(dense));
    QCOMPARE(as<Dense>(dense)->options().units, 100);
    QCOMPARE(as<Dense>(dense)->options().activation, ActivationFn::Relu);

    auto drop = fromKeras("Dropout", R"({"name": "dropout_1", "p": 0.25})");
    QCOMPARE(as<Dropout>(drop)->options().rate, 0.25f);

    auto sep = fromKeras("SeparableConvolution2D", R"({"name": "s", "nb_filter": 8, "nb_row": 3, "nb_col": 3,
        "depth_multiplier": 2, "border_mode": "same", "subsample": [1, 1]})");
    QCOMPARE(as<SeparableConv2D>(sep)->options().depthMultiplier, 2);
    QCOMPARE(as<SeparableConv2D>(sep)->options().filters, 8);

    auto pool = fromKeras("MaxPooling2D", R"({"name": "p", "pool_size": [3, 3], "strides": null,
        "border_mode": "valid", "dim_ordering": "tf"})");
    QCOMPARE(as<MaxPooling2D>(pool)->options().poolH, 3);
    QCOMPARE(as<MaxPooling2D>(pool)->options().strideH, 0);

    auto merge = fromKeras("Merge", R"({"name": "m", "mode": "concat", "concat_axis": -1})");
    QVERIFY(as<Concatenate>(merge));
    QVERIFY(fromKeras("Merge", R"({"name": "m", "mode": "sum"})")->op() == OpType::Add);

    auto bn = fromKeras("BatchNormalization", R"({"name": "bn", "mode": 0, "axis": -1, "momentum": 0.99,
        "epsilon": 0.001})");
    QVERIFY(as<BatchNormalization>(bn));
  }

  void keras2And3Spellings() {
    auto bn = fromKeras("BatchNormalization", R"({"name": "batch_normalization", "axis": [3], "momentum": 0.9,
        "epsilon": 0.001, "center": true, "scale": false})");
    QCOMPARE(as<BatchNormalization>(bn)->options().axis, 3);
    QCOMPARE(as<BatchNormalization>(bn)->options().momentum, 0.9f);
    QCOMPARE(as<BatchNormalization>(bn)->options().scale, false);

    auto relu6 = fromKeras("ReLU", R"({"name": "re_lu", "max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0})");
    QCOMPARE(*as<ReLU>(relu6)->options().maxValue, 6.0f);
    auto relu = fromKeras("ReLU", R"({"name": "re_lu", "max_value": null})");
    QVERIFY(!as<ReLU>(relu)->options().maxValue.has_value());

    // Keras 3: dtype-policy object, batch_shape, negative_slope.
    std::vector<std::string> warnings;
    auto dense = fromKeras("Dense", R"({"name": "dense", "trainable": true, "dtype": {"module": "keras",
        "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "units": 64,
        "activation": "relu", "use_bias": true, "kernel_regularizer": null})", &warnings);
    QCOMPARE(as<Dense>(dense)->options().units, 64);
    QVERIFY(warnings.empty());
    auto input = fromKeras("InputLayer", R"({"batch_shape": [null, 12], "dtype": "float32", "sparse": false,
        "name": "input_layer"})");
    QCOMPARE(as<InputLayer>(input)->shape(), (Shape{12}));
    auto leaky = fromKeras("LeakyReLU", R"({"name": "l", "negative_slope": 0.2})");
    QCOMPARE(as<LeakyReLU>(leaky)->options().alpha, 0.2f);
    auto leaky2 = fromKeras("LeakyReLU", R"({"name": "l", "alpha": 0.1})");
    QCOMPARE(as<LeakyReLU>(leaky2)->options().alpha, 0.1f);
    auto pad = fromKeras("ZeroPadding2D", R"({"name": "z", "padding": [[0, 1], [2, 3]]})");
    QCOMPARE(as<ZeroPadding2D>(pad)->options().bottom, 1);
    QCOMPARE(as<ZeroPadding2D>(pad)->options().left, 2);
    auto pad2 = fromKeras("ZeroPadding2D", R"({"name": "z", "padding": [1, 2]})");
    QCOMPARE(as<ZeroPadding2D>(pad2)->options().top, 1);
    QCOMPARE(as<ZeroPadding2D>(pad2)->options().right, 2);
    auto reshape = fromKeras("Reshape", R"({"name": "r", "target_shape": [1, 1, 256]})");
    QCOMPARE(as<Reshape>(reshape)->options().targetShape, (std::vector<int>{1, 1, 256}));
    auto avg = fromKeras("AvgPool2D", R"({"name": "a", "pool_size": 2, "strides": 1, "padding": "same"})");
    QCOMPARE(as<AveragePooling2D>(avg)->options().strideW, 1);
    auto dw = fromKeras("DepthwiseConv2D", R"({"name": "dw", "kernel_size": [3, 3], "strides": [2, 2],
        "padding": "same", "depth_multiplier": 2, "use_bias": false, "data_format": "channels_last",
        "dilation_rate": [1, 1]})");
    QCOMPARE(as<DepthwiseConv2D>(dw)->options().depthMultiplier, 2);
    QCOMPARE(as<DepthwiseConv2D>(dw)->options().useBias, false);
    auto elu = fromKeras("ELU", R"({"name": "e", "alpha": 1.0})");
    QVERIFY(elu && elu->op() == OpType::Activation);

    // Options that are not implemented are reported, not silently dropped.
    warnings.clear();
    // trainable=false is implemented (a frozen layer), so it is no warning.
    auto frozen = fromKeras("Dense", R"({"name": "d", "units": 2, "kernel_regularizer": {"class_name": "L2",
        "config": {"l2": 0.01}}, "trainable": false})", &warnings);
    QVERIFY(frozen && !frozen->trainable());
    QCOMPARE(warnings.size(), size_t(1));
    QVERIFY(warnings[0].find("Layer 'd' (Dense): kernel_regularizer") == 0);
    QVERIFY(fromKeras("Dense", R"({"name": "d", "units": 2})")->trainable());
  }

  // The 1-D layers, Conv2DTranspose, Cropping2D, UpSampling2D, PReLU, Permute in the
  // spellings Keras 1 / 2 / 3 write.
  void extraLayerSpellings() {
    auto k1 = fromKeras("Convolution1D", R"({"name": "c", "nb_filter": 8, "filter_length": 5,
        "subsample_length": 2, "border_mode": "same", "activation": "relu", "input_dim": 3})");
    QVERIFY(as<Conv1D>(k1));
    const auto& o1 = as<Conv1D>(k1)->options();
    QCOMPARE(o1.filters, 8);
    QCOMPARE(o1.kernelSize, 5);
    QCOMPARE(o1.stride, 2);
    QCOMPARE(o1.padding, Conv1DPadding::Same);
    QCOMPARE(o1.activation, ActivationFn::Relu);
    auto k2 = fromKeras("Conv1D", R"({"name": "conv1d", "filters": 4, "kernel_size": [3], "strides": [1],
        "padding": "causal", "data_format": "channels_last", "dilation_rate": [2], "groups": 1,
        "use_bias": false})");
    QCOMPARE(as<Conv1D>(k2)->options().dilation, 2);
    QCOMPARE(as<Conv1D>(k2)->options().padding, Conv1DPadding::Causal);
    QCOMPARE(as<Conv1D>(k2)->options().useBias, false);
    auto mp = fromKeras("MaxPooling1D", R"({"name": "m", "pool_length": 4, "stride": 2, "border_mode": "valid"})");
    QCOMPARE(as<MaxPooling1D>(mp)->options().poolSize, 4);
    QCOMPARE(as<MaxPooling1D>(mp)->options().stride, 2);
    auto mp3 = fromKeras("MaxPooling1D", R"({"name": "m", "pool_size": [3], "strides": null, "padding": "same"})");
    QCOMPARE(as<MaxPooling1D>(mp3)->options().poolSize, 3);
    QCOMPARE(as<MaxPooling1D>(mp3)->options().stride, 0);
    QCOMPARE(as<MaxPooling1D>(mp3)->options().padding, Padding::Same);

    auto ct = fromKeras("Conv2DTranspose", R"({"name": "t", "filters": 6, "kernel_size": 4, "strides": 2,
        "padding": "same", "output_padding": 1})");
    QVERIFY(as<Conv2DTranspose>(ct));
    QCOMPARE(as<Conv2DTranspose>(ct)->options().kernelW, 4);
    QCOMPARE(*as<Conv2DTranspose>(ct)->options().outputPadding, (std::array<int, 2>{1, 1}));
    auto ct0 = fromKeras("Conv2DTranspose", R"({"name": "t", "filters": 6, "kernel_size": [3, 3],
        "output_padding": null})");
    QVERIFY(!as<Conv2DTranspose>(ct0)->options().outputPadding.has_value());

    auto crop = fromKeras("Cropping2D", R"({"name": "c", "cropping": [1, 2]})");
    QCOMPARE(as<Cropping2D>(crop)->options().bottom, 1);
    QCOMPARE(as<Cropping2D>(crop)->options().left, 2);
    auto crop0 = fromKeras("Cropping2D", R"({"name": "c"})");
    QCOMPARE(as<Cropping2D>(crop0)->options().top, 0);
    auto up = fromKeras("UpSampling2D", R"({"name": "u", "size": 3})");
    QCOMPARE(as<UpSampling2D>(up)->options().sizeW, 3);
    QCOMPARE(as<UpSampling2D>(up)->options().interpolation, Interpolation::Nearest);

    std::vector<std::string> warnings;
    auto pr = fromKeras("PReLU", R"({"name": "p", "shared_axes": 2, "alpha_initializer": {"class_name": "Zeros",
        "config": {}}, "alpha_regularizer": {"class_name": "L2", "config": {"l2": 0.1}}})", &warnings);
    QCOMPARE(as<PReLU>(pr)->options().sharedAxes, (std::vector<int>{2}));
    QCOMPARE(warnings.size(), size_t(1));
    QVERIFY(warnings[0].find("alpha_regularizer") != std::string::npos);
    auto pr0 = fromKeras("PReLU", R"({"name": "p", "shared_axes": null})");
    QVERIFY(as<PReLU>(pr0)->options().sharedAxes.empty());
    auto pm = fromKeras("Permute", R"({"name": "p", "dims": [3, 1, 2]})");
    QCOMPARE(as<Permute>(pm)->options().dims, (std::vector<int>{3, 1, 2}));
  }

  // Configs that cannot be lowered: the message names the layer and class and says why.
  void refusedConfigs_data() {
    QTest::addColumn<QString>("cls");
    QTest::addColumn<QString>("config");
    QTest::addColumn<QString>("expect");
    QTest::addRow("channels_first") << "Conv2D"
        << R"({"name": "c", "filters": 2, "kernel_size": 3, "data_format": "channels_first"})" << "channels_last";
    QTest::addRow("theano") << "Convolution2D"
        << R"({"name": "c", "nb_filter": 2, "nb_row": 3, "nb_col": 3, "dim_ordering": "th"})" << "Theano";
    QTest::addRow("dilated+strided") << "Conv2D"
        << R"({"name": "c", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2})" << "dilation_rate";
    QTest::addRow("groups") << "Conv2D" << R"({"name": "c", "filters": 4, "kernel_size": 3, "groups": 2})"
                            << "grouped convolution";
    QTest::addRow("causal") << "Conv2D" << R"({"name": "c", "filters": 4, "kernel_size": 3, "padding": "causal"})"
                            << "padding 'causal'";
    QTest::addRow("activation") << "Dense" << R"({"name": "c", "units": 4, "activation": "softsign"})"
                                << "activation 'softsign' is not supported";
    QTest::addRow("units") << "Dense" << R"({"name": "c", "units": 0})" << "outside the supported range";
    QTest::addRow("huge") << "Dense" << R"({"name": "c", "units": 99999999999})" << "outside the supported range";
    QTest::addRow("unknown dim") << "InputLayer" << R"({"name": "c", "batch_input_shape": [null, null, 3]})"
                                 << "unknown dimension";
    QTest::addRow("renorm") << "BatchNormalization" << R"({"name": "c", "renorm": true})" << "renorm";
    QTest::addRow("bn mode 2") << "BatchNormalization" << R"({"name": "c", "mode": 2})" << "mode 2";
    QTest::addRow("bad type") << "Dense" << R"({"name": "c", "units": "many"})" << "should be an integer";
    QTest::addRow("dropout") << "Dropout" << R"({"name": "c", "rate": 1.5})" << "must be in [0, 1)";
    QTest::addRow("lambda") << "Lambda" << R"({"name": "c", "function": ["..."]})"
                            << "contains Python code that cannot be run outside Python";
    QTest::addRow("lstm") << "LSTM" << R"({"name": "c", "units": 4})" << "is not supported yet: recurrent";
    QTest::addRow("embedding") << "Embedding" << R"({"name": "c"})" << "is not supported yet";
    QTest::addRow("tf op") << "TFOpLambda" << R"({"name": "c", "function": "math.add"})" << "raw TensorFlow operation";
    QTest::addRow("custom") << "QDense" << R"({"name": "c"})" << "custom layer class";
    QTest::addRow("conv1d channels_first") << "Conv1D"
        << R"({"name": "c", "filters": 2, "kernel_size": 3, "data_format": "channels_first"})" << "channels_last";
    QTest::addRow("conv1d groups") << "Conv1D" << R"({"name": "c", "filters": 4, "kernel_size": 3, "groups": 2})"
                                   << "grouped convolution";
    QTest::addRow("conv1d padding") << "Conv1D" << R"({"name": "c", "filters": 4, "kernel_size": 3,
        "padding": "full"})" << "padding 'full' is not supported";
    QTest::addRow("pool1d channels_first") << "AveragePooling1D" << R"({"name": "c", "data_format": "channels_first"})"
                                           << "channels_last";
    QTest::addRow("tconv output_padding") << "Conv2DTranspose" << R"({"name": "c", "filters": 2, "kernel_size": 3,
        "strides": 2, "output_padding": [2, 1]})" << "must be smaller than the strides";
    QTest::addRow("upsampling bicubic") << "UpSampling2D" << R"({"name": "c", "interpolation": "bicubic"})"
                                        << "interpolation 'bicubic' is not supported";
    QTest::addRow("cropping") << "Cropping2D" << R"({"name": "c", "cropping": [1, 2, 3]})"
                              << "should be n, [rows, cols] or [[top, bottom], [left, right]]";
    QTest::addRow("prelu axes") << "PReLU" << R"({"name": "c", "shared_axes": ["h"]})" << "should hold axis numbers";
    QTest::addRow("permute") << "Permute" << R"({"name": "c"})" << "no 'dims'";
  }
  void refusedConfigs() {
    QFETCH(QString, cls);
    QFETCH(QString, config);
    QFETCH(QString, expect);
    auto r = layerFromKeras(cls.toStdString(), Json::parse(config.toStdString()), "c");
    QVERIFY(!r.ok());
    const std::string& msg = r.error().message;
    QVERIFY2(msg.rfind("Layer 'c' (" + cls.toStdString() + ")", 0) == 0, msg.c_str());
    QVERIFY2(msg.find(expect.toStdString()) != std::string::npos, msg.c_str());
  }

  // Every OpType survives engine -> Keras JSON -> engine with identical options.
  void everyOpTypeRoundTrips() {
    std::vector<Json> configs = {
        Json{{"class_name", "InputLayer"}, {"config", {{"batch_input_shape", {nullptr, 8, 8, 3}}, {"name", "in"}}}},
        Json::parse(R"({"class_name": "Dense", "config": {"name": "d", "units": 7, "use_bias": false, "activation": "gelu"}})"),
        Json::parse(R"({"class_name": "Conv2D", "config": {"name": "c", "filters": 5, "kernel_size": [3, 1],
            "strides": [1, 2], "padding": "same", "activation": "relu6"}})"),
        Json::parse(R"({"class_name": "Conv2D", "config": {"name": "c2", "filters": 5, "kernel_size": 3,
            "dilation_rate": [2, 3]}})"),
        Json::parse(R"({"class_name": "DepthwiseConv2D", "config": {"name": "dw", "kernel_size": 3,
            "depth_multiplier": 3, "strides": 2}})"),
        Json::parse(R"({"class_name": "SeparableConv2D", "config": {"name": "s", "filters": 4, "kernel_size": 5,
            "depth_multiplier": 2, "activation": "swish", "use_bias": false}})"),
        Json::parse(R"({"class_name": "BatchNormalization", "config": {"name": "b", "momentum": 0.9, "epsilon": 1e-5,
            "center": false, "fused": false}})"),
        Json::parse(R"({"class_name": "Activation", "config": {"name": "a", "activation": "hard_sigmoid"}})"),
        Json::parse(R"({"class_name": "ReLU", "config": {"name": "r", "max_value": 6.0, "threshold": 0.5}})"),
        Json::parse(R"({"class_name": "LeakyReLU", "config": {"name": "l", "alpha": 0.1}})"),
        Json::parse(R"({"class_name": "Softmax", "config": {"name": "sm", "axis": 2}})"),
        Json::parse(R"({"class_name": "MaxPooling2D", "config": {"name": "mp", "pool_size": [3, 2], "strides": [1, 2], "padding": "same"}})"),
        Json::parse(R"({"class_name": "AveragePooling2D", "config": {"name": "ap", "pool_size": 2, "strides": null}})"),
        Json::parse(R"({"class_name": "GlobalAveragePooling2D", "config": {"name": "ga", "keepdims": true}})"),
        Json::parse(R"({"class_name": "GlobalMaxPooling2D", "config": {"name": "gm"}})"),
        Json::parse(R"({"class_name": "Flatten", "config": {"name": "f"}})"),
        Json::parse(R"({"class_name": "Reshape", "config": {"name": "rs", "target_shape": [4, -1]}})"),
        Json::parse(R"({"class_name": "Dropout", "config": {"name": "dr", "rate": 0.3}})"),
        Json::parse(R"({"class_name": "ZeroPadding2D", "config": {"name": "zp", "padding": [[1, 2], [3, 4]]}})"),
        Json::parse(R"({"class_name": "Add", "config": {"name": "add"}})"),
        Json::parse(R"({"class_name": "Subtract", "config": {"name": "sub"}})"),
        Json::parse(R"({"class_name": "Multiply", "config": {"name": "mul"}})"),
        Json::parse(R"({"class_name": "Concatenate", "config": {"name": "cat", "axis": 1}})"),
        Json::parse(R"({"class_name": "Rescaling", "config": {"name": "rsc", "scale": 0.5, "offset": -1.0}})"),
        Json::parse(R"({"class_name": "Conv1D", "config": {"name": "c1", "filters": 4, "kernel_size": [5],
            "strides": [2], "padding": "causal", "activation": "relu"}})"),
        Json::parse(R"({"class_name": "Conv1D", "config": {"name": "c1d", "filters": 2, "kernel_size": 3,
            "dilation_rate": [3], "padding": "same", "use_bias": false}})"),
        Json::parse(R"({"class_name": "Conv2DTranspose", "config": {"name": "ct", "filters": 3, "kernel_size": [3, 2],
            "strides": [2, 3], "padding": "same", "output_padding": [1, 0], "activation": "tanh"}})"),
        Json::parse(R"({"class_name": "Conv2DTranspose", "config": {"name": "ct2", "filters": 3, "kernel_size": 4,
            "output_padding": null, "use_bias": false}})"),
        Json::parse(R"({"class_name": "MaxPooling1D", "config": {"name": "mp1", "pool_size": [3], "strides": [1],
            "padding": "same"}})"),
        Json::parse(R"({"class_name": "AveragePooling1D", "config": {"name": "ap1", "pool_size": 2, "strides": null}})"),
        Json::parse(R"({"class_name": "GlobalAveragePooling1D", "config": {"name": "ga1", "keepdims": true}})"),
        Json::parse(R"({"class_name": "GlobalMaxPooling1D", "config": {"name": "gm1"}})"),
        Json::parse(R"({"class_name": "UpSampling2D", "config": {"name": "up", "size": [2, 3], "interpolation": "bilinear"}})"),
        Json::parse(R"({"class_name": "UpSampling2D", "config": {"name": "up2"}})"),
        Json::parse(R"({"class_name": "Cropping2D", "config": {"name": "cr", "cropping": [[1, 0], [2, 3]]}})"),
        Json::parse(R"({"class_name": "PReLU", "config": {"name": "pr", "shared_axes": [1, 2]}})"),
        Json::parse(R"({"class_name": "PReLU", "config": {"name": "pr2", "shared_axes": null}})"),
        Json::parse(R"({"class_name": "Permute", "config": {"name": "pm", "dims": [2, 1, 3]}})"),
    };
    std::vector<bool> seen(static_cast<size_t>(OpType::Count), false);
    for (const Json& j : configs) {
      const std::string cls = j["class_name"];
      auto a = layerFromKeras(cls, j["config"], j["config"]["name"]);
      QVERIFY2(a.ok(), a.ok() ? "" : a.error().message.c_str());
      auto ja = layerToKeras(*a.value());
      QVERIFY(ja.ok());
      QCOMPARE(ja.value()["class_name"].get<std::string>(), cls);
      QCOMPARE(ja.value()["config"]["name"], j["config"]["name"]);
      auto b = layerFromKeras(cls, ja.value()["config"], ja.value()["config"]["name"]);
      QVERIFY2(b.ok(), b.ok() ? "" : b.error().message.c_str());
      auto jb = layerToKeras(*b.value());
      QCOMPARE(QString::fromStdString(jb->dump()), QString::fromStdString(ja->dump()));
      for (const auto& [key, value] : j["config"].items()) {  // the values given survive
        const Json& written = ja.value()["config"][key];
        if (value.is_number() && written.is_array()) continue;  // 3 -> [3, 3]
        QCOMPARE(QString::fromStdString(written.dump()), QString::fromStdString(value.dump()));
      }
      seen[static_cast<size_t>(a.value()->op())] = true;
    }
    // Every kind but the quantization nodes, which never appear in Keras files.
    for (size_t i = 0; i < seen.size(); ++i)
      QVERIFY2(seen[i] || isQuantizationOp(OpType(i)), std::string(opTypeName(OpType(i))).c_str());
    // Written floats are the shortest decimals that read back as the same float.
    auto bn = layerFromKeras("BatchNormalization", Json::parse(R"({"epsilon": 0.001, "momentum": 0.99})"), "bn");
    QCOMPARE(layerToKeras(*bn.value())->at("config")["epsilon"].dump(), std::string("0.001"));
  }

  // tf.keras 2.4+ records x + y, x * 0.5, 2.0 - x ... as TFOpLambda layers with the second
  // operand in the call's kwargs; the graph reader turns them into merge / Rescaling layers.
  void tfOpLambdaElementwise() {
    const char* tfop = R"({"class_name": "TFOpLambda", "config": {"name": "%1", "trainable": true,
        "dtype": "float32", "function": "%2"}, "name": "%1", "inbound_nodes": [%3]})";
    auto layer = [&](const char* name, const char* fn, const char* call) {
      return QString::fromLatin1(tfop).arg(QLatin1String(name), QLatin1String(fn), QLatin1String(call));
    };
    const QString input = QStringLiteral(R"({"class_name": "InputLayer", "config": {"batch_input_shape":
        [null, 3], "dtype": "float32", "sparse": false, "ragged": false, "name": "%1"}, "name": "%1",
        "inbound_nodes": []})");
    QStringList layers = {
        input.arg(QLatin1String("a")), input.arg(QLatin1String("b")),
        layer("tf.__operators__.add", "__operators__.add", R"(["a", 0, 0, {"y": ["b", 0, 0], "name": null}])"),
        layer("tf.math.multiply", "math.multiply", R"(["tf.__operators__.add", 0, 0, {"y": 0.5, "name": null}])"),
        layer("tf.math.subtract", "math.subtract", R"(["tf.math.multiply", 0, 0, {"y": ["b", 0, 0], "name": null}])"),
        layer("tf.math.subtract_1", "math.subtract",
              R"(["_CONSTANT_VALUE", -1, 2.0, {"y": ["tf.math.subtract", 0, 0], "name": null}])"),
        layer("tf.math.multiply_1", "math.multiply", R"(["tf.math.subtract", 0, 0, {"y": ["a", 0, 0]}])")};
    auto model = [&](const QStringList& ls, const char* out) {
      return Json::parse(QStringLiteral(R"({"class_name": "Functional", "config": {"name": "model", "layers": [%1],
          "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [%2]}})")
                             .arg(ls.join(QLatin1Char(',')), QLatin1String(out))
                             .toStdString());
    };
    auto g = keras::parseModelConfig(model(layers, R"(["tf.math.subtract_1", 0, 0], ["tf.math.multiply_1", 0, 0])"));
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().message.c_str());
    std::vector<std::string> classes;
    for (const auto& n : g->nodes) classes.push_back(n.className);
    QCOMPARE(classes, (std::vector<std::string>{"InputLayer", "InputLayer", "Add", "Rescaling", "Subtract",
                                                "Rescaling", "Multiply"}));
    QCOMPARE(g->nodes[4].inputs, (std::vector<int>{3, 1}));  // (a + b) * 0.5 - b
    QCOMPARE(g->warnings.size(), size_t(5));
    QVERIFY2(g->warnings[0].find("'tf.__operators__.add' (TFOpLambda) (tf.__operators__.add) is imported as an "
                                 "equivalent Add layer") != std::string::npos, g->warnings[0].c_str());

    // Build and run it: a = [1, 2, 3], b = [4, 5, 7].
    Model m;
    for (const auto& n : g->nodes) {
      auto l = layerFromKeras(n.className, n.config, n.name);
      QVERIFY2(l.ok(), l.ok() ? "" : l.error().message.c_str());
      if (n.isInput) m.addInput(n.name, dynamic_cast<const InputLayer&>(*l.value()).shape());
      else m.add(std::move(l.value()), n.inputs);
    }
    m.setOutputs(g->outputs);
    QVERIFY(m.build().ok());
    QCOMPARE(dynamic_cast<const Rescaling&>(*m.node(5).layer).options().scale, -1.0f);  // 2 - x
    QCOMPARE(dynamic_cast<const Rescaling&>(*m.node(5).layer).options().offset, 2.0f);
    Tensor a(Shape{1, 3}), b(Shape{1, 3});
    const float av[] = {1, 2, 3}, bv[] = {4, 5, 7};
    std::copy(av, av + 3, a.data());
    std::copy(bv, bv + 3, b.data());
    Executor ex(m);
    auto outs = ex.forward({&a, &b}, RunContext{});
    // d = (a + b) · 0.5 − b = [-1.5, -1.5, -2];  2 − d;  d · a
    const float e0[] = {3.5f, 3.5f, 4.0f}, e1[] = {-1.5f, -3.0f, -6.0f};
    for (int i = 0; i < 3; ++i) {
      QCOMPARE((*outs[0])[size_t(i)], e0[i]);
      QCOMPARE((*outs[1])[size_t(i)], e1[i]);
    }

    // Other TensorFlow functions and constant tensors stay refused, with the reason.
    QStringList other = layers.mid(0, 2);
    other << layer("tf.math.truediv", "math.truediv", R"(["a", 0, 0, {"y": ["b", 0, 0], "name": null}])");
    auto div = keras::parseModelConfig(model(other, R"(["tf.math.truediv", 0, 0])"));
    QVERIFY(!div.ok());
    QVERIFY2(div.error().message.rfind("Layer 'tf.math.truediv' (TFOpLambda) is the raw TensorFlow operation "
                                       "tf.math.truediv", 0) == 0, div.error().message.c_str());
    QStringList constant = layers.mid(0, 2);
    constant << layer("tf.math.multiply", "math.multiply", R"(["a", 0, 0, {"y": [[1.0, 2.0, 3.0]]}])");
    auto cst = keras::parseModelConfig(model(constant, R"(["tf.math.multiply", 0, 0])"));
    QVERIFY(!cst.ok());
    QVERIFY2(cst.error().message.find("is a constant tensor; only a single number is supported") !=
             std::string::npos, cst.error().message.c_str());
  }

  void trainingConfigForms() {
    auto t = parseKerasTrainingConfig(R"({"loss": {"class_name": "SparseCategoricalCrossentropy",
        "config": {"reduction": "auto", "name": "sparse_categorical_crossentropy", "from_logits": true}},
        "metrics": [[{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32",
        "fn": "sparse_categorical_accuracy"}}]], "optimizer_config": {"class_name": "Custom>SGD",
        "config": {"name": "SGD", "learning_rate": 0.05, "momentum": 0.9, "nesterov": true}}})");
    QVERIFY(t.ok());
    QCOMPARE(t->loss, std::string("sparse_categorical_crossentropy"));
    QVERIFY(t->fromLogits);
    QCOMPARE(t->optimizer, std::string("sgd"));
    QCOMPARE(*t->learningRate, 0.05);
    QCOMPARE(t->optimizerParams.at("momentum"), 0.9);
    QCOMPARE(t->optimizerParams.at("nesterov"), 1.0);
    QCOMPARE(t->metrics, std::vector<std::string>{"accuracy"});

    auto k1 = parseKerasTrainingConfig(R"({"loss": "mse", "optimizer_config": {"class_name": "RMSprop",
        "config": {"lr": 0.001, "rho": 0.9}}, "metrics": ["mae"]})");
    QCOMPARE(k1->loss, std::string("mean_squared_error"));
    QCOMPARE(k1->optimizer, std::string("rmsprop"));
    QCOMPARE(*k1->learningRate, 0.001);
    QCOMPARE(k1->metrics, std::vector<std::string>{"mae"});

    auto k3 = parseKerasTrainingConfig(R"({"loss": {"module": "keras.losses", "class_name": "function",
        "config": "binary_crossentropy", "registered_name": "function"}, "optimizer_config": {"module":
        "keras.optimizers", "class_name": "Adam", "config": {"learning_rate": {"module":
        "keras.optimizers.schedules", "class_name": "ExponentialDecay", "config": {}}}}})");
    QCOMPARE(k3->loss, std::string("binary_crossentropy"));
    QCOMPARE(k3->optimizer, std::string("adam"));
    QVERIFY(!k3->learningRate.has_value());

    QVERIFY(!parseKerasTrainingConfig("not json").ok());
  }

  // Long string lists are split into name0, name1, ... like Keras does, and joined back.
  void chunkedStringAttributes() {
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("attrs.h5")).toStdString();
    std::vector<std::string> names;
    for (int i = 0; i < 3000; ++i) names.push_back("some_rather_long_layer_name_number_" + std::to_string(i));
    {
      auto f = h5::File::create(path);
      QVERIFY(f.ok());
      {
        auto root = f->root();
        QVERIFY(root->writeStringListAttr("layer_names", names).ok());
        QVERIFY(root->writeStringListAttr("empty", {}).ok());
        QVERIFY(root->writeStringAttr("text", "héllo").ok());
        QVERIFY(root->writeFloats("g/data:0", {2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}.data()).ok());
        auto early = f->close();  // the root group is still open: refused, not half-flushed
        QVERIFY(!early.ok());
        QVERIFY2(early.error().message.find("still open") != std::string::npos, early.error().message.c_str());
      }
      QVERIFY(f->close().ok());
    }
    QVERIFY(!h5::File::create(path).ok());  // never overwrites
    auto f = h5::File::openRead(path);
    QVERIFY(f.ok());
    auto root = f->root();
    QVERIFY(!root->hasAttr("layer_names"));
    QVERIFY(root->hasAttr("layer_names0") && root->hasAttr("layer_names1"));
    auto back = root->stringListAttr("layer_names");
    QVERIFY(back.ok());
    QCOMPARE(back.value(), names);
    QCOMPARE(root->stringListAttr("empty")->size(), size_t(0));
    QCOMPARE(root->stringAttr("text").value(), std::string("héllo"));
    QCOMPARE(root->datasetShape("g/data:0").value(), (std::vector<uint64_t>{2, 3}));
    std::vector<float> v(6);
    QVERIFY(root->readFloats("g/data:0", v.data(), 6).ok());
    QCOMPARE(v[5], 6.0f);
    auto wrong = root->readFloats("g/data:0", v.data(), 5);
    QVERIFY(!wrong.ok());
    QVERIFY2(wrong.error().message.find("/g/data:0") != std::string::npos, wrong.error().message.c_str());
    auto missing = root->stringAttr("nope");
    QVERIFY(!missing.ok());
    QVERIFY2(missing.error().message.find(path + ": /: ") == 0, missing.error().message.c_str());
  }
};

QTEST_APPLESS_MAIN(TestKerasLayers)
#include "test_keras_layers.moc"
