/* test_worker.c: the helper thread (worker.c): a job runs on another thread
 * and worker_wait returns after it; a second job is refused while one is in
 * hand; jobs run one after the other for as long as the worker lives. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "worker.h"

typedef struct {
    pthread_t ran_on;
    atomic_int runs;
    atomic_bool release; /* the job holds until this is set */
} job;

static void hold_job(void *arg)
{
    job *j = arg;
    j->ran_on = pthread_self();
    while (!atomic_load(&j->release))
        usleep(1000);
    atomic_fetch_add(&j->runs, 1);
}

static void busy_worker_refuses_a_second_job(void **state)
{
    (void)state;
    worker_t *w = worker_new();
    assert_non_null(w);
    job a = {0}, b = {0};
    assert_true(worker_start(w, hold_job, &a));
    assert_false(worker_start(w, hold_job, &b)); /* a is still in hand */
    atomic_store(&a.release, true);
    worker_wait(w);
    assert_int_equal(atomic_load(&a.runs), 1);
    assert_false(pthread_equal(a.ran_on, pthread_self()));
    assert_int_equal(atomic_load(&b.runs), 0);
    worker_destroy(&w);
    assert_null(w);
}

static void jobs_run_one_after_another(void **state)
{
    (void)state;
    worker_t *w = worker_new();
    job j = {0};
    atomic_store(&j.release, true);
    for (int i = 0; i < 100; i++) {
        assert_true(worker_start(w, hold_job, &j));
        worker_wait(w);
        assert_int_equal(atomic_load(&j.runs), i + 1);
    }
    worker_destroy(&w);
    worker_destroy(&w); /* already gone: nothing to do */
    assert_false(worker_start(NULL, hold_job, &j));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(busy_worker_refuses_a_second_job),
        cmocka_unit_test(jobs_run_one_after_another),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
