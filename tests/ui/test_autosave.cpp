// Autosave and crash recovery (ui/autosave.h). The crash test runs a real studio session in
// a child process (tests/ui/autosave_child.cpp) that autosaves back to back, stops it the
// moment a later autosave has created its temporary file (inotify + SIGSTOP, so the kill
// lands inside the write, not before or after it), kills it with SIGKILL, and checks what
// a user would find on the next start: the saved project untouched, one recovery file
// offered, complete, holding the last finished autosave and the crashed session's change,
// recovered as the original project with unsaved changes. Plus: clean exit and a normal
// save delete the session's file, interval 0 turns autosave off, other sessions' files.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QtTest>

#ifdef Q_OS_LINUX
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>
#endif

#include "engine/core/rng.h"
#include "engine/data/dataset.h"
#include "engine/project/project.h"
#include "ui/autosave.h"
#include "ui/main_window.h"
#include "ui/project_document.h"

using namespace qat;
using namespace qat::ui;

namespace {

// Random 28×28×1 images with labels 0..9: enough for a PTQ run to calibrate and evaluate.
std::shared_ptr<const Dataset> syntheticData(int n, uint64_t seed) {
  auto d = std::make_shared<Dataset>();
  d->x = Tensor(Shape{n, 28, 28, 1});
  Rng rng(seed);
  for (size_t i = 0; i < d->x.size(); ++i) d->x[i] = rng.uniform();
  for (int i = 0; i < n; ++i) d->labels.push_back(i % 10);
  d->numClasses = 10;
  d->source = "synthetic";
  return d;
}

// fashion-cnn with "dense" at W4A8 and one PTQ run: a project with a config and a run.
void makeProject(ProjectDocument& doc) {
  QString error;
  QVERIFY2(doc.newFromBuiltin(QStringLiteral("fashion-cnn"), 42, &error), qPrintable(error));
  doc.applyPreset({doc.nodeOfLayer(QStringLiteral("dense"))}, QuantPreset::W4A8);
  doc.setData(syntheticData(64, 1), syntheticData(32, 2));
  TrainingSettings s = doc.trainingSettings();
  s.batchSize = 16;
  s.calibrationBatches = 2;
  doc.setTrainingSettings(s);
  QSignalSpy finished(&doc, &ProjectDocument::trainingFinished);
  QVERIFY2(doc.startRun(project::RunKind::PostTraining, &error), qPrintable(error));
  QVERIFY(finished.wait(120000));
  QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
  QCOMPARE(doc.runs().size(), size_t(1));
}

// Everything saveProject writes that the test can change: config, runs, model weights.
void compareProjects(project::Project& a, project::Project& b) {
  QCOMPARE(a.modelSource, b.modelSource);
  QVERIFY(a.config == b.config);
  QCOMPARE(a.nextRunId, b.nextRunId);
  QCOMPARE(a.runs.size(), b.runs.size());
  for (size_t i = 0; i < a.runs.size(); ++i) {
    QCOMPARE(a.runs[i].id, b.runs[i].id);
    QCOMPARE(a.runs[i].name, b.runs[i].name);
    QVERIFY(a.runs[i].config == b.runs[i].config);
    QVERIFY(a.runs[i].metrics == b.runs[i].metrics);
    QVERIFY(a.runs[i].modelImage == b.runs[i].modelImage);
  }
  std::vector<Param*> pa = a.model.params(), pb = b.model.params();
  QCOMPARE(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    QCOMPARE(pa[i]->value.size(), pb[i]->value.size());
    for (size_t k = 0; k < pa[i]->value.size(); ++k) QCOMPARE(pa[i]->value[k], pb[i]->value[k]);
  }
}

project::Project load(const QString& path) {
  auto p = project::loadProject(path.toStdString());
  QAT_ASSERT(p.ok());
  return std::move(p.value());
}

QStringList filesIn(const QString& dir) {
  return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDir::Name);
}

// Writes a recovery entry by hand (a copy of `project` and a sidecar naming `pid`).
void fakeEntry(const QString& dir, const QString& base, const QString& project, qint64 pid, const QString& bootId,
               const QDateTime& mtime) {
  const QString target = QDir(dir).filePath(base + QStringLiteral(".qatproj"));
  QVERIFY(QFile::copy(project, target));
  QFile f(target);
  QVERIFY(f.open(QIODevice::ReadWrite));
  QVERIFY(f.setFileTime(mtime, QFileDevice::FileModificationTime));
  QFile meta(QDir(dir).filePath(base + QStringLiteral(".json")));
  QVERIFY(meta.open(QIODevice::WriteOnly));
  QJsonObject o{{QStringLiteral("qat_autosave"), 1},
                {QStringLiteral("pid"), pid},
                {QStringLiteral("original_path"), QStringLiteral("/somewhere/%1.qatproj").arg(base)},
                {QStringLiteral("project_name"), base}};
  if (!bootId.isEmpty()) o[QStringLiteral("boot_id")] = bootId;
  meta.write(QJsonDocument(o).toJson());
}

}  // namespace

class TestAutosave : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void crashDuringAutosaveLeavesProjectAndRecovery();
  void cleanExitRemovesSessionFiles();
  void normalSaveRemovesRecoveryFile();
  void intervalZeroDisablesAutosave();
  void pendingRecoveriesSkipsLiveAndOwnSessions();
  void recoveryQuestionLaterAndDiscard();

 private:
  QTemporaryDir tmp_;
  QString projectPath_;  // a saved fashion-cnn project with one PTQ run
};

void TestAutosave::initTestCase() {
  QStandardPaths::setTestModeEnabled(true);  // QSettings and AppDataLocation away from the user's
  QVERIFY(tmp_.isValid());
  ProjectDocument doc;
  makeProject(doc);
  projectPath_ = tmp_.filePath(QStringLiteral("work.qatproj"));
  QString error;
  QVERIFY2(doc.saveProject(projectPath_, &error), qPrintable(error));
}

void TestAutosave::crashDuringAutosaveLeavesProjectAndRecovery() {
#ifndef Q_OS_LINUX
  QSKIP("needs inotify and POSIX signals");
#else
  QTemporaryDir dir;
  const QString recoveryDir = dir.filePath(QStringLiteral("recovery"));
  QVERIFY(QDir().mkpath(recoveryDir));
  project::Project saved = load(projectPath_);
  const QByteArray savedBytes = [&] {
    QFile f(projectPath_);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
  }();

  const int watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  QVERIFY(watch >= 0);
  QVERIFY(inotify_add_watch(watch, QFile::encodeName(recoveryDir).constData(), IN_MODIFY | IN_MOVED_TO) >= 0);
  QProcess child;
  child.setStandardOutputFile(dir.filePath(QStringLiteral("child.out")));
  child.setStandardErrorFile(dir.filePath(QStringLiteral("child.err")));
  child.start(QStringLiteral(QAT_AUTOSAVE_CHILD_PATH), {projectPath_, recoveryDir});
  QVERIFY(child.waitForStarted());
  const pid_t pid = pid_t(child.processId());

  // Is the stopped child's process state 'T'? SIGSTOP is asynchronous.
  auto stopped = [pid] {
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly)) return false;
    const QByteArray s = stat.readAll();
    return s.mid(s.lastIndexOf(')') + 2, 1) == "T";
  };
  bool firstComplete = false;
  QString tempAtKill;
  qint64 tempSizeAtKill = -1;
  int misses = 0;
  QElapsedTimer clock;
  clock.start();
  while (tempAtKill.isEmpty() && clock.elapsed() < 60000 && child.state() == QProcess::Running) {
    pollfd p{watch, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    alignas(inotify_event) char buffer[8192];
    const ssize_t n = read(watch, buffer, sizeof buffer);
    for (ssize_t at = 0; at < n && tempAtKill.isEmpty();) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buffer + at);
      at += ssize_t(sizeof(inotify_event) + ev->len);
      const QString name = ev->len ? QFile::decodeName(ev->name) : QString();
      if ((ev->mask & IN_MOVED_TO) && name.endsWith(QStringLiteral(".qatproj"))) firstComplete = true;
      // A later autosave has written the first bytes of the project's hidden temporary
      // file: freeze the child, and kill it if the write has not finished (the file is
      // still there). fwrite puts the whole blocks first and the tail on fflush, so the
      // child usually stops with a truncated file.
      if (!firstComplete || !(ev->mask & IN_MODIFY) || !name.contains(QStringLiteral(".qatproj.tmp-"))) continue;
      QCOMPARE(::kill(pid, SIGSTOP), 0);
      for (int i = 0; i < 1000 && !stopped(); ++i) QThread::usleep(200);
      const QFileInfo temp(QDir(recoveryDir).filePath(name));
      if (temp.exists()) {
        tempSizeAtKill = temp.size();
        QCOMPARE(::kill(pid, SIGKILL), 0);
        tempAtKill = temp.filePath();
      } else {
        ++misses;
        QCOMPARE(::kill(pid, SIGCONT), 0);
      }
    }
  }
  close(watch);
  QVERIFY2(!tempAtKill.isEmpty(), "the child never got caught inside an autosave");
  QVERIFY(child.waitForFinished(10000));
  QCOMPARE(child.exitStatus(), QProcess::CrashExit);
  QFile out(dir.filePath(QStringLiteral("child.out")));
  QVERIFY(out.open(QIODevice::ReadOnly));
  const QList<QByteArray> lines = out.readAll().trimmed().split('\n');
  QVERIFY(lines.last().startsWith("autosaved "));
  const int lastComplete = lines.last().mid(10).toInt();
  QVERIFY(lastComplete >= 1);
  QVERIFY2(QFileInfo::exists(tempAtKill), "the interrupted write's temporary file is gone: the kill missed it");
  QVERIFY(tempSizeAtKill > 0);

  // The saved project is untouched: same bytes, loads, same config, runs and weights.
  {
    QFile f(projectPath_);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll() == savedBytes);
    project::Project after = load(projectPath_);
    compareProjects(after, saved);
  }

  // One recovery offered: complete, the last finished autosave, with the child's change.
  const QList<RecoveryEntry> pending = Autosaver::pendingRecoveries(recoveryDir);
  QCOMPARE(pending.size(), 1);
  const RecoveryEntry entry = pending.first();
  QCOMPARE(entry.pid, qint64(pid));
  QCOMPARE(entry.originalPath, projectPath_);
  QCOMPARE(entry.projectName, QStringLiteral("work"));
  QVERIFY(entry.savedAt.secsTo(QDateTime::currentDateTime()) < 120);
  const qint64 completeSize = QFileInfo(entry.recoveryPath).size();
  qInfo("killed inside autosave %d (after %d complete ones, %d misses): %lld of about %lld bytes written",
        lastComplete + 1, lastComplete, misses, tempSizeAtKill, completeSize);
  if (tempSizeAtKill < completeSize)  // truncated: not a project, and not what is offered
    QVERIFY(!project::loadProject(tempAtKill.toStdString()).ok());
  {
    project::Project recovered = load(entry.recoveryPath);
    QCOMPARE(recovered.uiState.value("autosave_child_write", -1), lastComplete);
    QCOMPARE(recovered.runs.size(), saved.runs.size());
    QCOMPARE(recovered.runs.front().name, std::string("renamed in the crashed session"));
    QVERIFY(recovered.config.layers.at("conv1").quantize == false);
    QVERIFY(saved.config.layers.at("conv1").quantize == true);
    QVERIFY(recovered.runs.front().modelImage == saved.runs.front().modelImage);
  }

  // Recover: the original project, modified; the entry's files become this session's.
  ProjectDocument doc;
  Autosaver autosaver(&doc, nullptr, recoveryDir);
  QString asked, error;
  QVERIFY2(offerRecovery(
               &autosaver,
               [&](const RecoveryEntry& e) {
                 asked = recoveryQuestionText(e);
                 return RecoveryChoice::Recover;
               },
               &error),
           qPrintable(error));
  QVERIFY2(asked.startsWith(QStringLiteral("QAT Studio did not close cleanly. Recover the unsaved work of work from ")),
           qPrintable(asked));
  QCOMPARE(doc.projectPath(), projectPath_);
  QVERIFY(doc.isModified());
  QCOMPARE(doc.runs().front().name, std::string("renamed in the crashed session"));
  QVERIFY(!doc.isQuantized(doc.nodeOfLayer(QStringLiteral("conv1"))));
  QVERIFY(!QFileInfo::exists(entry.recoveryPath));
  QVERIFY(!QFileInfo::exists(tempAtKill));  // the interrupted write's leftover is cleaned up
  QCOMPARE(filesIn(recoveryDir), QStringList({QFileInfo(autosaver.metaPath()).fileName(),
                                               QFileInfo(autosaver.recoveryPath()).fileName()}));
  QVERIFY(Autosaver::pendingRecoveries(recoveryDir).isEmpty());  // this session is alive

  // Save writes the original file, and the recovery file goes away.
  QVERIFY2(doc.saveProject(doc.projectPath(), &error), qPrintable(error));
  QVERIFY(filesIn(recoveryDir).isEmpty());
  project::Project resaved = load(projectPath_);
  QCOMPARE(resaved.runs.front().name, std::string("renamed in the crashed session"));
#endif
}

void TestAutosave::cleanExitRemovesSessionFiles() {
  QTemporaryDir dir;
  ProjectDocument doc;
  QString error;
  QVERIFY(doc.openProject(projectPath_, &error));
  QString recovery;
  {
    Autosaver autosaver(&doc, nullptr, dir.path());
    autosaver.setIntervalMs(20);
    QSignalSpy saved(&autosaver, &Autosaver::autosaved);
    QVERIFY(!saved.wait(300));  // nothing unsaved: nothing written
    doc.applyPreset({doc.nodeOfLayer(QStringLiteral("logits"))}, QuantPreset::W8A16);
    QVERIFY(saved.wait(10000));
    QVERIFY(saved.first().at(0).toBool());
    recovery = autosaver.recoveryPath();
    QCOMPARE(QFileInfo(recovery).path(), dir.path());
    QVERIFY(load(recovery).config == doc.quantizeConfig());
    QVERIFY(!saved.wait(300));  // no change since: the timer writes nothing
    QCOMPARE(autosaver.completedWrites(), 1);
    doc.setBnMode(quant::BnMode::Fold == doc.quantizeConfig().bnMode ? quant::BnMode::Tfmot : quant::BnMode::Fold);
    QVERIFY(saved.wait(10000));
    QCOMPARE(autosaver.completedWrites(), 2);
    QVERIFY(load(recovery).config == doc.quantizeConfig());
    QCOMPARE(filesIn(dir.path()).size(), 2);  // project + sidecar
  }
  QVERIFY(doc.isModified());  // discarded on exit: the user chose not to save
  QVERIFY(filesIn(dir.path()).isEmpty());
}

void TestAutosave::normalSaveRemovesRecoveryFile() {
  QTemporaryDir dir;
  ProjectDocument doc;
  QString error;
  QVERIFY(doc.openProject(projectPath_, &error));
  Autosaver autosaver(&doc, nullptr, dir.filePath(QStringLiteral("recovery")));
  autosaver.setIntervalMs(0);
  const QString copy = dir.filePath(QStringLiteral("copy.qatproj"));

  doc.applyPreset({doc.nodeOfLayer(QStringLiteral("logits"))}, QuantPreset::W8A16);
  QSignalSpy saved(&autosaver, &Autosaver::autosaved);
  QElapsedTimer clock;
  clock.start();
  QVERIFY(autosaver.autosaveNow());
  const qint64 guiUs = clock.nsecsElapsed() / 1000;  // snapshot + handing it to the worker
  QVERIFY(saved.wait(10000));
  qInfo("autosave of a %lld-byte project: %lld us on the GUI thread, %lld us until written",
        QFileInfo(autosaver.recoveryPath()).size(), guiUs, clock.nsecsElapsed() / 1000);
  QVERIFY(QFileInfo::exists(autosaver.recoveryPath()));
  QVERIFY(doc.saveProject(copy, &error));
  QVERIFY(!QFileInfo::exists(autosaver.recoveryPath()));
  QVERIFY(!QFileInfo::exists(autosaver.metaPath()));
  QVERIFY(!autosaver.autosaveNow());  // nothing unsaved

  // A save while an autosave is being written: the finished write is dropped.
  doc.applyPreset({doc.nodeOfLayer(QStringLiteral("logits"))}, QuantPreset::Default8);
  QVERIFY(autosaver.autosaveNow());
  QVERIFY(autosaver.isWriting());
  QVERIFY(doc.saveProject(copy, &error));
  QVERIFY(saved.wait(10000));
  QVERIFY(!QFileInfo::exists(autosaver.recoveryPath()));
  QVERIFY(filesIn(autosaver.recoveryDir()).isEmpty());
}

void TestAutosave::intervalZeroDisablesAutosave() {
  QSettings settings(QString::fromUtf8(MainWindow::kOrganization), QString::fromUtf8(MainWindow::kApplication));
  settings.remove(QString::fromUtf8(Autosaver::kSettingsKey));
  QTemporaryDir dir;
  ProjectDocument doc;
  QString error;
  QVERIFY(doc.openProject(projectPath_, &error));
  {
    Autosaver autosaver(&doc, nullptr, dir.path());
    QCOMPARE(autosaver.intervalMinutes(), Autosaver::kDefaultMinutes);
    QVERIFY(autosaver.isEnabled());
    autosaver.setIntervalMinutes(0);
    QVERIFY(!autosaver.isEnabled());
  }
  QCOMPARE(Autosaver::savedIntervalMinutes(), 0);
  Autosaver autosaver(&doc, nullptr, dir.path());
  QCOMPARE(autosaver.intervalMinutes(), 0);
  QVERIFY(!autosaver.isEnabled());
  doc.applyPreset({doc.nodeOfLayer(QStringLiteral("logits"))}, QuantPreset::W8A16);
  QSignalSpy saved(&autosaver, &Autosaver::autosaved);
  QVERIFY(!saved.wait(500));
  QVERIFY(filesIn(dir.path()).isEmpty());
  autosaver.setIntervalMinutes(5);
  QVERIFY(autosaver.isEnabled());
  QCOMPARE(Autosaver::savedIntervalMinutes(), 5);
  settings.remove(QString::fromUtf8(Autosaver::kSettingsKey));
}

void TestAutosave::pendingRecoveriesSkipsLiveAndOwnSessions() {
#ifndef Q_OS_UNIX
  QSKIP("pid liveness is checked on Unix only");
#else
  QTemporaryDir dir;
  QFile bootFile(QStringLiteral("/proc/sys/kernel/random/boot_id"));
  const QString boot = bootFile.open(QIODevice::ReadOnly) ? QString::fromLatin1(bootFile.readAll().trimmed()) : QString();
  QProcess sleeper, finished;
  sleeper.start(QStringLiteral("sleep"), {QStringLiteral("30")});
  finished.start(QStringLiteral("true"), {});
  QVERIFY(sleeper.waitForStarted() && finished.waitForStarted());
  const qint64 livePid = sleeper.processId(), deadPid = finished.processId();
  QVERIFY(finished.waitForFinished());
  const QDateTime now = QDateTime::currentDateTime();
  const qint64 own = QCoreApplication::applicationPid();
  auto name = [](qint64 pid, const char* tag) { return QStringLiteral("autosave-%1-%2").arg(pid).arg(QLatin1String(tag)); };
  fakeEntry(dir.path(), name(deadPid, "old"), projectPath_, deadPid, boot, now.addSecs(-3600));
  fakeEntry(dir.path(), name(deadPid, "new"), projectPath_, deadPid, boot, now.addSecs(-60));
  fakeEntry(dir.path(), name(livePid, "live"), projectPath_, livePid, boot, now);
  fakeEntry(dir.path(), name(own, "own"), projectPath_, own, boot, now);
  if (!boot.isEmpty())  // a live pid from before a reboot is someone else: listed
    fakeEntry(dir.path(), name(livePid, "reboot"), projectPath_, livePid, QStringLiteral("another-boot"), now.addSecs(-1));
  // Leftovers of a dead session: a sidecar whose project never got written, and a
  // temporary file; the live session's temporary file is its write in progress.
  auto touch = [&](const QString& file) {
    QFile f(QDir(dir.path()).filePath(file));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("x");
  };
  touch(name(deadPid, "gone") + QStringLiteral(".json"));
  touch(QLatin1Char('.') + name(deadPid, "new") + QStringLiteral(".qatproj.tmp-123-0"));
  touch(QLatin1Char('.') + name(livePid, "live") + QStringLiteral(".qatproj.tmp-456-0"));

  QStringList listed;
  for (const RecoveryEntry& e : Autosaver::pendingRecoveries(dir.path())) listed << e.projectName;
  QStringList expected{name(deadPid, "new"), name(deadPid, "old")};
  if (!boot.isEmpty()) expected.insert(0, name(livePid, "reboot"));
  QCOMPARE(listed, expected);
  QCOMPARE(Autosaver::pendingRecoveries(dir.path()).last().originalPath,
           QStringLiteral("/somewhere/%1.qatproj").arg(name(deadPid, "old")));

  QCOMPARE(Autosaver::removeLeftovers(dir.path()), 2);
  const QStringList files = filesIn(dir.path());
  QVERIFY(!files.contains(name(deadPid, "gone") + QStringLiteral(".json")));
  QVERIFY(files.contains(QLatin1Char('.') + name(livePid, "live") + QStringLiteral(".qatproj.tmp-456-0")));
  QVERIFY(files.contains(name(deadPid, "new") + QStringLiteral(".qatproj")));
  sleeper.kill();
  sleeper.waitForFinished();
#endif
}

void TestAutosave::recoveryQuestionLaterAndDiscard() {
  QTemporaryDir dir;
  const QDateTime when = QDateTime::currentDateTime().addSecs(-600);
  fakeEntry(dir.path(), QStringLiteral("autosave-999999999-a"), projectPath_, 999999999, {}, when);
  ProjectDocument doc;
  Autosaver autosaver(&doc, nullptr, dir.path());
  int asked = 0;
  QVERIFY(!offerRecovery(&autosaver, [&](const RecoveryEntry&) {
    ++asked;
    return RecoveryChoice::Later;
  }));
  QCOMPARE(asked, 1);
  QCOMPARE(Autosaver::pendingRecoveries(dir.path()).size(), 1);  // offered again next start
  QVERIFY(!doc.hasModel());

  // The message box as the studio shows it: grab it, then answer Later.
  QWidget parent;
  parent.resize(900, 600);
  parent.show();
  QString text;
  QTimer::singleShot(200, &parent, [&] {
    auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
    if (!box) return;
    text = box->text();
    box->grab().save(QStringLiteral("/tmp/autosave_recovery_box.png"));
    for (QAbstractButton* b : box->buttons())
      if (b->text() == QStringLiteral("Later")) b->click();
  });
  offerRecoveryOnStart(&autosaver, &parent);
  QVERIFY2(text.contains(QStringLiteral("autosave-999999999-a")), qPrintable(text));
  QVERIFY(text.contains(QLocale().toString(when, QLocale::ShortFormat)));
  QCOMPARE(Autosaver::pendingRecoveries(dir.path()).size(), 1);

  QVERIFY(!offerRecovery(&autosaver, [](const RecoveryEntry&) { return RecoveryChoice::Discard; }));
  QVERIFY(Autosaver::pendingRecoveries(dir.path()).isEmpty());
  QVERIFY(filesIn(dir.path()).isEmpty());
}

QTEST_MAIN(TestAutosave)
#include "test_autosave.moc"
