#include "storage_writer/storage_writer.hpp"

namespace parley::actors {

void storage_writer::append(storage::write_group group, storage::commit_callback done,
                            std::vector<storage::sequenced_op> sequenced) const {
  status submitted = writer_ ? writer_->submit(std::move(group), std::move(sequenced), std::move(done))
                             : status(make_error(errc::shutting_down, "no storage writer"));
  if (!submitted && done) {
    storage::commit_outcome refused;
    refused.code = submitted.code();
    done(std::move(refused));
  }
}

}  // namespace parley::actors
