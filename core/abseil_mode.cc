#include "core/abseil_mode.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "absl/synchronization/mutex.h"

namespace eddy::internal {

void UseReleaseMutexMode() {
#ifdef NDEBUG
  static std::once_flag once;
  std::call_once(once, [] {
    const char* keep = std::getenv("EDDY_ABSL_DEADLOCK_DETECTION");
    if (keep != nullptr && std::strcmp(keep, "1") == 0) return;
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  });
#endif
}

}  // namespace eddy::internal
