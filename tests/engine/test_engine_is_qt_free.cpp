// The engine must never include a Qt header: the CLI and the engine tests run on machines
// without a display, and the engine stays usable outside the GUI.
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <regex>

namespace {
// An #include of a Qt header: <QString>, "QtCore/qglobal.h", ...
// (A plain string literal: moc does not understand raw strings.)
const std::regex& qtIncludePattern() {
  static const std::regex re("^\\s*#\\s*include\\s*[<\"](Q[A-Za-z]+|Qt[A-Za-z]+/)");
  return re;
}
}  // namespace

class TestEngineIsQtFree : public QObject {
  Q_OBJECT
 private slots:
  void noQtIncludes() {
    const std::filesystem::path engine = std::filesystem::path(QAT_SOURCE_DIR) / "engine";
    QVERIFY(std::filesystem::is_directory(engine));
    const std::regex& qtInclude = qtIncludePattern();
    int files = 0;
    QStringList offenders;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(engine)) {
      const auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp" && ext != ".hpp")) continue;
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      int lineNo = 0;
      while (std::getline(in, line)) {
        ++lineNo;
        if (std::regex_search(line, qtInclude))
          offenders << QString::fromStdString(entry.path().string() + ":" + std::to_string(lineNo));
      }
    }
    QVERIFY2(files > 20, "engine sources not found");
    QVERIFY2(offenders.isEmpty(), qPrintable(offenders.join(QStringLiteral(", "))));
  }
  void detectorCatchesAQtInclude() {
    // The pattern itself must flag the include forms we forbid.
    const std::regex& qtInclude = qtIncludePattern();
    QVERIFY(std::regex_search(std::string("#include <QString>"), qtInclude));
    QVERIFY(std::regex_search(std::string("  #  include \"QtCore/qglobal.h\""), qtInclude));
    QVERIFY(!std::regex_search(std::string("#include <queue>"), qtInclude));
  }
};

QTEST_APPLESS_MAIN(TestEngineIsQtFree)
#include "test_engine_is_qt_free.moc"
