"""Learning progress, quizzes and certificates (cms/learning_views.py).
Included from config/urls.py before Wagtail's catch-all page serving."""

from django.urls import path

from cms import learning_views as views

app_name = "learning"
urlpatterns = [
    path("learning/", views.my_learning, name="mine"),
    path("learning/lessons/<int:pk>/done/", views.mark_done, name="lesson-done"),
    path("learning/lessons/<int:pk>/quiz/", views.submit_quiz, name="quiz-submit"),
    path("learning/quiz/<uuid:token>/", views.quiz_result, name="quiz-result"),
    path(
        "learning/courses/<int:pk>/certificate/", views.claim_certificate, name="certificate-claim"
    ),
    path("learning/certificates/<str:code>/pdf/", views.certificate_pdf, name="certificate-pdf"),
    path("certificates/verify/", views.verify, name="verify"),
    path("certificates/<str:code>/", views.certificate_public, name="certificate-public"),
]
