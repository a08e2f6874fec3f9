#pragma once
// Runs tests/armnn_runner (Arm NN 20.08 TfLite parser + CpuRef backend) in a child process:
// Arm NN can abort the whole process on graphs it mishandles, so it never runs inside a
// test executable. Tests listed in QAT_ARMNN_TESTS (tests/CMakeLists.txt) get the runner's
// path as QAT_ARMNN_RUNNER_PATH, or QAT_ARMNN_MISSING naming the packages to install.
#include <QProcess>
#include <QString>
#include <QStringList>

namespace test {

struct ArmnnResult {
  int exitCode = -1;  // -1: crashed, timed out or not built
  QString out, err;
};

inline ArmnnResult runArmnn(const QStringList& args, int timeoutMs = 300000) {
  ArmnnResult r;
#ifdef QAT_ARMNN_RUNNER_PATH
  QProcess p;
  p.start(QStringLiteral(QAT_ARMNN_RUNNER_PATH), args);
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
    r.err = QStringLiteral("armnn_runner timed out after %1 s").arg(timeoutMs / 1000);
    return r;
  }
  r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
  r.err = QString::fromUtf8(p.readAllStandardError()).trimmed();
  if (p.exitStatus() != QProcess::NormalExit) r.err += QStringLiteral(" (armnn_runner crashed)");
#else
  Q_UNUSED(args);
  Q_UNUSED(timeoutMs);
  r.err = QStringLiteral("armnn_runner was not built");
#endif
  return r;
}

}  // namespace test
