#pragma once
// DataPanel: choose the data set (bundled Fashion-MNIST, IDX, NPZ, HDF5, image folder,
// CSV), a training and an optional test file, the input normalisation and the
// validation split; Load hands the result to the document (ProjectDocument::setData with
// a DataRef, so a saved project can reload it) and a SampleStrip previews it.
//
// Loading a file can take seconds (an image folder decodes and resizes every image), so
// Load runs loadData() on a short-lived QThread and applies the result on the GUI thread;
// the document is touched only there. A bad file never reaches the document: the
// loader's message (it names the file) is shown in errorLabel().
//
// loadData() is also the way to reload a project's DataRef (ProjectDocument::openProject
// may call it): it is plain engine code and runs on any thread.
#include <QString>
#include <QWidget>

#include <memory>

#include "engine/core/error.h"
#include "engine/core/tensor.h"
#include "engine/data/dataset.h"
#include "engine/project/project.h"

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QThread;

namespace qat::ui {

class ProjectDocument;
class SampleStrip;

// DataRef kinds, as engine/project/project.h lists them.
inline constexpr const char* kDataFashionMnist = "fashion-mnist";
inline constexpr const char* kDataIdx = "idx";
inline constexpr const char* kDataNpz = "npz";
inline constexpr const char* kDataHdf5 = "hdf5";
inline constexpr const char* kDataImageFolder = "image-folder";
inline constexpr const char* kDataCsv = "csv";

// A DataRef as ProjectDocument::loadData reads it: trainPath / testPath are data-source
// specs (engine/data/data_source.h: "npz:/d/f.npz", "idx:IMAGES,LABELS", "images:DIR");
// for fashion-mnist trainPath is the directory ("" = ProjectDocument::fashionMnistDir()).
// Options (JSON keys), all optional:
//   normalize         "none" | "scale01" | "meanstd"      (default "scale01")
//   mean, std         per-channel statistics of a "meanstd" load; absent: computed from
//                     the training data (and written into the ref loadData returns)
//   validation_split  fraction of the training data held out when there is no test file
//                     (the last samples, as Keras' validation_split)
//   x_name, y_name    NPZ array / HDF5 data set names (default "x", "y")
//   label_column      CSV label column, name or index (default the last)

struct LoadedData {
  std::shared_ptr<const Dataset> train;
  std::shared_ptr<const Dataset> validation;  // the test file or the split; may be null
  project::DataRef ref;                        // what to store (meanstd: with its statistics)
};

// Loads what `ref` describes. inputShape: the model's per-sample input (H, W, C) that
// image folders are resized to; empty keeps the images' own size. Errors name the file.
Expected<LoadedData> loadData(const project::DataRef& ref, const Shape& inputShape);

// The ten Fashion-MNIST class names when `d` looks like Fashion-MNIST, else d.classNames.
std::vector<std::string> displayClassNames(const Dataset& d);

class DataPanel : public QWidget {
  Q_OBJECT
 public:
  explicit DataPanel(ProjectDocument* document, QWidget* parent = nullptr);
  ~DataPanel() override;  // waits for a load in flight

  // The form's current choice as a DataRef (what Load will load).
  project::DataRef currentRef() const;
  // Fills the form from `ref` (e.g. the document's dataRef()) without loading.
  void setRef(const project::DataRef& ref);

  QComboBox* kindBox() const { return kind_; }
  QLineEdit* trainPathEdit() const { return trainPath_; }
  QLineEdit* trainLabelsEdit() const { return trainLabels_; }
  QLineEdit* testPathEdit() const { return testPath_; }
  QLineEdit* testLabelsEdit() const { return testLabels_; }
  QLineEdit* xNameEdit() const { return xName_; }
  QLineEdit* yNameEdit() const { return yName_; }
  QLineEdit* labelColumnEdit() const { return labelColumn_; }
  QComboBox* normalizationBox() const { return normalization_; }
  QDoubleSpinBox* validationSplitBox() const { return validationSplit_; }
  QPushButton* loadButton() const { return loadButton_; }
  // The loader's error ("" after a successful load); summaryLabel() describes the data.
  QLabel* errorLabel() const { return error_; }
  QLabel* summaryLabel() const { return summary_; }
  SampleStrip* preview() const { return preview_; }
  bool isLoading() const { return thread_ != nullptr; }

 public slots:
  // Loads the form's choice; returns at once (loadFinished tells the result).
  void load();

 signals:
  // After every Load: ok = the document has the new data; else `message` says why.
  void loadFinished(bool ok, const QString& message);

 private:
  void buildUi();
  void updateKindRows();
  void browse(QLineEdit* edit, bool directory);
  void finishLoad(Expected<LoadedData> result);
  void showError(const QString& message);
  void refreshSummary();

  ProjectDocument* document_;
  QFormLayout* form_ = nullptr;
  QComboBox* kind_ = nullptr;
  QLineEdit *trainPath_ = nullptr, *trainLabels_ = nullptr, *testPath_ = nullptr, *testLabels_ = nullptr;
  QLineEdit *xName_ = nullptr, *yName_ = nullptr, *labelColumn_ = nullptr;
  QWidget *trainRow_ = nullptr, *trainLabelsRow_ = nullptr, *testRow_ = nullptr, *testLabelsRow_ = nullptr;
  QComboBox* normalization_ = nullptr;
  QDoubleSpinBox* validationSplit_ = nullptr;
  QPushButton* loadButton_ = nullptr;
  QLabel* error_ = nullptr;
  QLabel* summary_ = nullptr;
  SampleStrip* preview_ = nullptr;
  QThread* thread_ = nullptr;  // the load in flight; deleted when it has finished
  std::unique_ptr<Expected<LoadedData>> pending_;  // written by thread_, read after it finished
};

}  // namespace qat::ui
