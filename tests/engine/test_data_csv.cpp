// CSV reader: header detection, label column by name or index, integer / string /
// float labels, quoting and CRLF, and bad cells reported with line and column.
#include <QTemporaryDir>
#include <QtTest>

#include "common/data_files.h"
#include "engine/data/csv_reader.h"

using namespace qat;

namespace {
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
}  // namespace

class TestDataCsv : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string write(const char* name, const std::string& text) {
    const std::string p = dir_.filePath(QString::fromUtf8(name)).toStdString();
    test::writeBytes(p, test::toBytes(text));
    return p;
  }

 private slots:
  void stringLabelsWithHeader() {
    const std::string p = write("iris.csv",
                                "sepal_length,sepal_width,species\n"
                                "5.1,3.5,setosa\n"
                                "\n"
                                "7.0,3.2,versicolor\n"
                                "6.3,-3.3e-1,virginica\n"
                                "4.9,+3.0,setosa\n");
    CsvOptions o;
    o.labelColumn = "species";
    auto d = loadCsv(p, o);
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->x.shape(), (Shape{4, 2}));
    const std::vector<float> want = {5.1f, 3.5f, 7.0f, 3.2f, 6.3f, -0.33f, 4.9f, 3.0f};
    for (size_t i = 0; i < want.size(); ++i) QCOMPARE(d->x[i], want[i]);
    QCOMPARE(d->classNames, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
    QCOMPARE(d->labels, (std::vector<int>{0, 1, 2, 0}));
    QCOMPARE(d->numClasses, 3);
    // Same file, label by index (last column, header auto-detected).
    auto e = loadCsv(p);
    QVERIFY(e.ok());
    QCOMPARE(e->labels, d->labels);
  }

  void integerLabelsFirstColumnNoHeader() {
    const std::string p = write("digits.csv", "3,0.5,1\r\n0,1.5,2\r\n7,2.5,3\r\n");
    CsvOptions o;
    o.labelIndex = 0;
    auto d = loadCsv(p, o);
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->x.shape(), (Shape{3, 2}));
    QCOMPARE(d->x[0], 0.5f);
    QCOMPARE(d->x[5], 3.0f);
    QCOMPARE(d->labels, (std::vector<int>{3, 0, 7}));
    QCOMPARE(d->numClasses, 8);
    QVERIFY(d->classNames.empty());
  }

  void floatTargetsAndMeanStd() {
    const std::string p = write("reg.csv", "a;b;y\n1;10;0.5\n3;30;1.25\n");
    CsvOptions o;
    o.delimiter = ';';
    o.norm = Normalization::meanStd({2.0f, 20.0f}, {1.0f, 10.0f});
    auto d = loadCsv(p, o);
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QVERIFY(d->labels.empty());
    QCOMPARE(d->targets.shape(), (Shape{2, 1}));
    QCOMPARE(d->targets[1], 1.25f);
    QCOMPARE(d->x[0], -1.0f);
    QCOMPARE(d->x[1], -1.0f);
    QCOMPARE(d->x[3], 1.0f);
    // Forcing class labels turns the values into sorted class names.
    o.targetKind = TargetKind::ClassIndex;
    auto c = loadCsv(p, o);
    QVERIFY(c.ok());
    QCOMPARE(c->classNames, (std::vector<std::string>{"0.5", "1.25"}));
  }

  void quotedFields() {
    const std::string p = write("q.csv",
                                "\"x, one\",\"x \"\"two\"\"\",label\n"
                                "1,2,\"cat, black\"\n"
                                " \"3\" ,4,dog\n");
    auto d = loadCsv(p);
    QVERIFY2(d.ok(), d.ok() ? "" : d.error().message.c_str());
    QCOMPARE(d->classNames, (std::vector<std::string>{"cat, black", "dog"}));
    QCOMPARE(d->x[2], 3.0f);
  }

  void badCellNamesLineAndColumn() {
    const std::string p = write("bad.csv",
                                "f1,f2,f3,label\n"
                                "1,2,3,a\n"
                                "4,5,6,b\n"
                                "7,8,oops,a\n");
    auto d = loadCsv(p);
    QVERIFY(!d.ok());
    const std::string& m = d.error().message;
    QVERIFY2(contains(m, p + " line 4, column 3 ('f3')"), m.c_str());
    QVERIFY2(contains(m, "'oops' is not a number"), m.c_str());

    const std::string e = write("empty-cell.csv", "1,2,0\n3,,1\n");
    auto r = loadCsv(e);
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "line 2, column 2") && contains(r.error().message, "empty"),
             r.error().message.c_str());

    const std::string n = write("nan.csv", "1,2,0\nnan,1,1\n");
    r = loadCsv(n);
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "line 2, column 1"), r.error().message.c_str());
  }

  void structuralErrors() {
    auto r = loadCsv(write("ragged.csv", "1,2,0\n3,4\n"));
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "line 2: has 2 columns"), r.error().message.c_str());

    CsvOptions o;
    o.labelColumn = "target";
    r = loadCsv(write("names.csv", "a,b,label\n1,2,x\n"), o);
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "no column named 'target'") && contains(r.error().message, "'a', 'b', 'label'"),
             r.error().message.c_str());

    r = loadCsv(write("quote.csv", "1,2,\"open\n3,4,x\n"));
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "line 1: a quoted field is never closed"), r.error().message.c_str());

    QVERIFY(!loadCsv(write("empty.csv", "\n\n")).ok());
    QVERIFY(!loadCsv(write("header-only.csv", "a,b,c\n")).ok());
    QVERIFY(!loadCsv(write("one-col.csv", "1\n2\n")).ok());
    CsvOptions idx;
    idx.labelIndex = 5;
    QVERIFY(!loadCsv(write("idx.csv", "1,2\n"), idx).ok());
    CsvOptions fl;
    fl.targetKind = TargetKind::Float;
    r = loadCsv(write("fl.csv", "1,2\n3,cat\n"), fl);
    QVERIFY(!r.ok());
    QVERIFY2(contains(r.error().message, "'cat'"), r.error().message.c_str());
    QVERIFY(!loadCsv(dir_.filePath(QStringLiteral("absent.csv")).toStdString()).ok());
  }
};

QTEST_APPLESS_MAIN(TestDataCsv)
#include "test_data_csv.moc"
